"""In-app notices: the bell in every page's frame and the inbox behind it."""
from flask import Blueprint

from blueprints._access import role_guard
from domain.roles import Role

bp = Blueprint("notices", __name__)
bp.before_request(role_guard(Role.RECEIVER, Role.HANDLER, Role.QUALITY, Role.MANAGER))

from blueprints.notices import views  # noqa: E402,F401
