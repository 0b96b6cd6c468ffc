from flask import Blueprint

from blueprints._access import role_guard
from domain.roles import Role

bp = Blueprint("manager", __name__)
bp.before_request(role_guard(Role.MANAGER))

from blueprints.manager import views  # noqa: E402,F401
