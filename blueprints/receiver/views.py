from blueprints._web import render
from blueprints.receiver import bp


@bp.route("/")
def home():
    return render("receiver/home.html")
