from flask import Blueprint

from blueprints._access import role_guard
from domain.roles import Role

bp = Blueprint("handler", __name__)
bp.before_request(role_guard(Role.HANDLER))

from blueprints.handler import views  # noqa: E402,F401
