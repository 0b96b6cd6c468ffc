from blueprints._web import render
from blueprints.handler import bp


@bp.route("/")
def home():
    return render("handler/home.html")
