"""Flask extensions, created here and bound to the app in create_app()."""
from flask import request
from flask_babel import Babel
from flask_compress import Compress
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect
from htmx_flask import Htmx

from models import db  # noqa: F401  (re-exported for convenience)

babel = Babel()
compress = Compress()  # applied by blueprints._transfer, not to every response
csrf = CSRFProtect()
htmx = Htmx()
login_manager = LoginManager()
# Per-address limits live in Redis so that they hold across web processes; when Redis is
# down the limiter falls back to process memory and logs it (login keeps working).
limiter = Limiter(key_func=get_remote_address)


@limiter.request_filter
def _static_files_are_free() -> bool:
    return request.endpoint == "static"
