"""Bytes a browser fetches for a first visit (the page and every static file it names), uncompressed.

    .venv/bin/python bench/first_load.py        # budget (SPEC §10): ≤ 100 KB

Measured for the login page and, with the demo data loaded, for each role's home after login
(the manager's approval cards on a phone, the clerk's intake form …).
"""
import re
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app import create_app  # noqa: E402

HOMES = [("manager", "/manager/"), ("quality", "/quality/"), ("prod_head", "/handler/"), ("receiver", "/receiver/")]


def fetch(client, path):
    resp = client.get(path)
    html = resp.get_data()
    resp.close()
    sizes = {f"{path} (HTML)": len(html)}
    for asset in re.findall(r'(?:src|href)="(/static/[^"]+)"', html.decode()):
        r = client.get(asset)
        sizes[asset] = len(r.get_data())
        r.close()
    return sizes


def main():
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/bench.db", "SECRET_KEY": "bench",
                          "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False, "UPLOAD_DIR": f"{tmp}/uploads",
                          "PASSWORD_HASH_FAST": True})
        with app.app_context():
            from cli import upgrade_database
            from demo import seed, seed_complaints
            from models import db
            upgrade_database()
            seed(db.session)
            db.session.flush()
            seed_complaints(db.session)
            db.session.commit()
        report("/login", fetch(app.test_client(), "/login"))
        for user, path in HOMES:
            client = app.test_client()
            client.post("/login", data={"username": user, "password": "demo12345"})
            report(f"{path} as {user}", fetch(client, path))
        with app.app_context():
            db.engine.dispose()


def report(title, sizes):
    total = sum(sizes.values())
    html = next(iter(sizes.values()))
    print(f"{title:28} HTML {html / 1024:6.1f} KB + static {(total - html) / 1024:5.1f} KB "
          f"= {total / 1024:6.1f} KB (budget 100 KB)")


if __name__ == "__main__":
    main()
