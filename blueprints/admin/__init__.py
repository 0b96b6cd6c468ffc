from flask import Blueprint

from blueprints._web import role_guard
from domain.roles import Role

bp = Blueprint("admin", __name__)
bp.before_request(role_guard(Role.ADMIN))

from blueprints.admin import views  # noqa: E402,F401
