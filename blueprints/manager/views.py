from blueprints._web import render
from blueprints.manager import bp


@bp.route("/")
def home():
    return render("manager/home.html")
