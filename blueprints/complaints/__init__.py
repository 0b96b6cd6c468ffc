from flask import Blueprint

from blueprints._access import role_guard
from domain.roles import Role

bp = Blueprint("complaints", __name__)
bp.before_request(role_guard(Role.RECEIVER, Role.HANDLER, Role.QUALITY, Role.MANAGER))

from blueprints.complaints import slip, views  # noqa: E402,F401
