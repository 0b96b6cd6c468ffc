"""A complaint's penalty (SPEC §6): the record page's section and its steps, the manager's one-tap
cards, the general manager's office notice. The totals for a period are a report (blueprints/reports)."""
from flask import Blueprint

from blueprints._access import role_guard
from domain.roles import Role

bp = Blueprint("penalties", __name__)
bp.before_request(role_guard(Role.RECEIVER, Role.HANDLER, Role.QUALITY, Role.MANAGER))

from blueprints.penalties import views  # noqa: E402,F401
