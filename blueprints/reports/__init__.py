"""Quality's and the manager's screens (SPEC §5, §6, seed 001 五.2): the accountability ledger,
the overdue list, the store audit, penalty totals and the half-year summary. Under /complaints,
where they were bookmarked; each route's own guard narrows the blueprint's."""
from flask import Blueprint

from blueprints._access import role_guard
from domain.roles import Role

bp = Blueprint("reports", __name__)
# The ledger and the overdue list are scoped like the register (a store head sees their store);
# the rest is for quality and the manager (and the half-year summary's readers).
bp.before_request(role_guard(Role.RECEIVER, Role.HANDLER, Role.QUALITY, Role.MANAGER))

from blueprints.reports import exports, views  # noqa: E402,F401
from blueprints.reports import monthly  # noqa: E402,F401  (the monthly report, issue 17)
