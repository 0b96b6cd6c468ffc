from flask import Blueprint

from blueprints._access import role_guard
from domain.roles import Role

bp = Blueprint("quality", __name__)
bp.before_request(role_guard(Role.QUALITY))

from blueprints.quality import views  # noqa: E402,F401
