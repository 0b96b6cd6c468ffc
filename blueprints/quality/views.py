from blueprints._web import render
from blueprints.quality import bp


@bp.route("/")
def home():
    return render("quality/home.html")
