"""Pages without login (SPEC §7): /healthz (views), and the customer's — the online complaint
form (complain), the lookup, the progress page and adding information (track), the survey and
closure by link (survey). What they share — the light frame, the administrator's switch, the
headers, the customer's error pages, rate limits and pending photos — is in pages."""
from flask import Blueprint

bp = Blueprint("public", __name__)

from blueprints.public import complain, pages, survey, track, views  # noqa: E402,F401
