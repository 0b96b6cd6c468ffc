"""Bytes a browser fetches on a first visit (the page and every static file it names, nothing
cached), as transferred when it sends `Accept-Encoding: gzip, br`: bodies as sent plus response
headers (a real server adds ~100 bytes of Date/Server/Connection per response).

    .venv/bin/python bench/first_load.py        # budget (issue 13): ≤ 60 KB per page

The login page and, with the demo data loaded, for each role: its home (the manager's approval
cards, the clerk's intake form …), the register and a record page. The last column is the same
visit uncompressed. Exits 1 when a page is over budget.
"""
import re
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app import create_app  # noqa: E402

BUDGET = 60 * 1024
CUSTOMER_BUDGET = 30 * 1024     # issue 16: the customer's pages
BROWSER = {"Accept-Encoding": "gzip, br"}
ROLES = [("admin", "/admin/"), ("manager", "/manager/"), ("quality", "/quality/"), ("prod_head", "/handler/"),
         ("receiver", "/receiver/")]
COMPLAINT_ROLES = {"manager", "quality", "prod_head", "receiver"}


def sent(resp) -> tuple[int, int]:
    """(bytes as transferred: status line + headers + body, bytes of the body uncompressed)."""
    body = resp.get_data()
    headers = len(f"HTTP/1.1 {resp.status}\r\n") + sum(len(f"{k}: {v}\r\n") for k, v in resp.headers.items()) + 2
    plain = len(body)
    if resp.headers.get("Content-Encoding") == "gzip":
        import gzip
        plain = len(gzip.decompress(body))
    resp.close()
    return headers + len(body), plain


def visit(client, path) -> dict:
    resp = client.get(path, headers=BROWSER)
    assert resp.status_code == 200, (path, resp.status_code)
    encoded = resp.headers.get("Content-Encoding")
    html = resp.get_data()
    if encoded == "gzip":
        import gzip
        html = gzip.decompress(html)
    page, plain = sent(resp)
    result = {"page": page, "static": 0, "plain": plain, "html": html.decode()}
    for asset in re.findall(r'(?:src|href)="(/static/[^"]+)"', result["html"]):
        size, asset_plain = sent(client.get(asset, headers=BROWSER))
        result["static"] += size
        result["plain"] += asset_plain
    return result


def main():
    over = []
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
        print(f"{'page':34} {'HTML':>8} {'static':>8} {'total':>8}   uncompressed   (budget {BUDGET // 1024} KB)")
        over += report("/login", visit(app.test_client(), "/login"))
        for user, home in ROLES:
            client = app.test_client()
            client.post("/login", data={"username": user, "password": "demo12345"})
            over += report(f"{home} as {user}", visit(client, home))
            if user in COMPLAINT_ROLES:
                register = visit(client, "/complaints/")
                over += report(f"/complaints/ as {user}", register)
                record = re.search(r'href="(/complaints/\d+)"', register["html"]).group(1)
                over += report(f"{record} as {user}", visit(client, record))
        with app.app_context():
            from sqlalchemy import select

            from domain.portal import links
            from models import utcnow
            from models.complaint import Complaint
            web = db.session.scalar(select(Complaint).where(Complaint.channel == "web").order_by(Complaint.id))
            rating = db.session.scalar(select(Complaint).where(Complaint.stage == "follow_up").order_by(Complaint.id))
            token = links.issue(db.session, rating, utcnow(), 7)
            db.session.commit()
            customer_pages = ["/complain", "/track", links.follow_path("bench", web), f"/survey/{token}"]
        for path in customer_pages:
            over += report(path[:34], visit(app.test_client(), path), CUSTOMER_BUDGET)
        with app.app_context():
            db.engine.dispose()
    if over:
        print("over budget:", ", ".join(over))
        sys.exit(1)


def report(title, r, budget=BUDGET) -> list[str]:
    total = r["page"] + r["static"]
    print(f"{title:34} {r['page'] / 1024:5.1f} KB {r['static'] / 1024:5.1f} KB {total / 1024:5.1f} KB"
          f"   {r['plain'] / 1024:6.1f} KB")
    return [title] if total > budget else []


if __name__ == "__main__":
    main()
