"""The administrator's screens, by section: home, organisation (units and their robots), users,
audit (the trail), time_limits (calendar, SLA, reminders, SMTP, outbox), settings (thresholds,
categories, penalty table), replies (the reply templates), portal (the customer's side: public
pages and SMS) and orders (monthly order volumes per branch and store)."""
from flask import Blueprint

from blueprints._access import role_guard
from domain.roles import Role

bp = Blueprint("admin", __name__)
bp.before_request(role_guard(Role.ADMIN))

from blueprints.admin import audit, home, orders, organisation, portal, replies, settings, time_limits, users  # noqa: E402,F401
