"""What the report benches (bench/halfyear.py, bench/monthly.py) share: the app over the benchmark
database of bench/scale.py, its schema brought up to date (new tables come empty), and how many
complaints it holds."""
from __future__ import annotations

from sqlalchemy import func, select

from app import create_app
from bench.scale import database_url, ensure_pg_database
from models import db

UPLOADS = "/tmp/kesu-bench-uploads"


def open_bench(kind: str):
    """(app, complaints in its database) for `kind` ("sqlite" or "postgresql"); the PostgreSQL
    database is created when absent. Nothing is loaded: bench/scale.py does that."""
    from cli import upgrade_database
    from models.complaint import Complaint
    url = database_url(kind)
    if kind != "sqlite":
        ensure_pg_database(url)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "RATELIMIT_ENABLED": False,
                      "UPLOAD_DIR": UPLOADS, "PASSWORD_HASH_FAST": True})
    with app.app_context():
        upgrade_database()
        have = db.session.scalar(select(func.count()).select_from(Complaint))
    return app, have
