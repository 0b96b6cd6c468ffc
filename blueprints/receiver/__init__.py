from flask import Blueprint

from blueprints._access import role_guard
from domain.roles import Role

bp = Blueprint("receiver", __name__)
bp.before_request(role_guard(Role.RECEIVER))

from blueprints.receiver import views  # noqa: E402,F401
