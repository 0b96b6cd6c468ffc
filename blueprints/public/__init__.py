"""Pages without login: /healthz now; the customer's complaint form and lookup later (SPEC §7)."""
from flask import Blueprint

bp = Blueprint("public", __name__)

from blueprints.public import views  # noqa: E402,F401
