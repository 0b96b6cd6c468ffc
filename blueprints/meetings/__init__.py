"""The monthly complaint meeting 客诉专题会 (SPEC §3.5) and the actions it decides: quality opens and
runs it, attendees (any staff role) sign its minutes, owners report their actions done, quality
verifies them. Who sees which meeting or action is decided in domain.meetings' queries (404 else)."""
from flask import Blueprint

from blueprints._access import COMPLAINT_ROLES, role_guard

bp = Blueprint("meetings", __name__)
bp.before_request(role_guard(*COMPLAINT_ROLES))

from blueprints.meetings import views  # noqa: E402,F401
