"""Bytes a browser fetches for the first page (/login and every static file it names), uncompressed.

    .venv/bin/python bench/first_load.py        # budget (SPEC §10): ≤ 100 KB
"""
import re
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app import create_app  # noqa: E402


def main():
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/bench.db", "SECRET_KEY": "bench"})
        client = app.test_client()
        page = client.get("/login")
        html = page.get_data()
        sizes = {"/login (HTML)": len(html)}
        for asset in re.findall(r'(?:src|href)="(/static/[^"]+)"', html.decode()):
            resp = client.get(asset)
            sizes[asset] = len(resp.get_data())
            resp.close()
        with app.app_context():
            from models import db
            db.engine.dispose()
    for name, n in sizes.items():
        print(f"{n:>8,} B  {name}")
    total = sum(sizes.values())
    print(f"{total:>8,} B  total = {total / 1024:.1f} KB (budget 100 KB)")


if __name__ == "__main__":
    main()
