"""How responses travel: gzip when asked (pages, fragments, static text), static files under
content-hashed URLs cached for a year, attachments and cross-site requests left as they are."""
import gzip
import hashlib
import io
import re
from pathlib import Path

from sqlalchemy import select

from models import db
from models.complaint import Complaint
from tests.web.test_intake_web import form, jpeg, submit

STATIC = Path(__file__).resolve().parents[2] / "static"
A_YEAR = "public, max-age=31536000, immutable"


def browser(**more) -> dict:
    """What a browser sends (a new dict each time: the Web helper adds to the one it is given)."""
    return {"Accept-Encoding": "gzip, deflate, br, zstd", **more}


def body(resp) -> bytes:
    data = resp.get_data()
    return gzip.decompress(data) if resp.headers.get("Content-Encoding") == "gzip" else data


def vary(resp) -> set[str]:
    return {v.strip().lower() for v in resp.headers.get("Vary", "").split(",") if v.strip()}


def test_a_page_and_htmx_come_back_gzipped_with_versioned_urls_cached_for_a_year(login_as):
    web = login_as("receiver")
    page = web.get("/receiver/", headers=browser())
    assert page.status_code == 200 and page.headers["Content-Encoding"] == "gzip"
    assert "accept-encoding" in vary(page) and page.headers["Cache-Control"] == "no-store"
    html = body(page).decode()
    assert "X-CSRFToken" in html and len(page.get_data()) < len(html.encode()) / 3
    urls = re.findall(r'(?:src|href)="(/static/[^"]+)"', html)
    assert any("htmx-2.0.11.min.js" in u for u in urls)
    for url in urls:
        name, version = re.fullmatch(r"/static/([^?]+)\?v=([0-9a-f]{12})", url).groups()
        assert version == hashlib.sha256((STATIC / name).read_bytes()).hexdigest()[:12]   # the content's hash
        resp = web.get(url, headers=browser())
        assert resp.status_code == 200 and resp.headers["Cache-Control"] == A_YEAR
        assert "Set-Cookie" not in resp.headers and "cookie" not in vary(resp)   # or a login refetches it
        assert body(resp) == (STATIC / name).read_bytes()
        if name.endswith((".js", ".css")):
            assert resp.headers["Content-Encoding"] == "gzip" and "accept-encoding" in vary(resp)
            assert "Accept-Ranges" not in resp.headers   # ranges are served of the uncompressed file
    htmx = web.get(next(u for u in urls if "htmx" in u), headers=browser())
    assert len(htmx.get_data()) < 20 * 1024 < (STATIC / "htmx-2.0.11.min.js").stat().st_size


def test_without_accept_encoding_nothing_is_compressed(web):
    for url in ("/login", "/static/htmx-2.0.11.min.js"):
        resp = web.get(url)
        assert "Content-Encoding" not in resp.headers, url


def test_a_static_url_without_the_current_version_is_not_cached_for_a_year(web):
    for url in ("/static/app.css", "/static/app.css?v=1"):
        resp = web.get(url, headers=browser())
        assert resp.status_code == 200 and "immutable" not in resp.headers["Cache-Control"], url


def test_tiny_files_and_partial_content_are_sent_as_they_are(web):
    icon = web.get("/static/favicon.svg", headers=browser())          # 208 bytes: not worth it
    assert "Content-Encoding" not in icon.headers
    part = web.get("/static/htmx-2.0.11.min.js", headers=browser(Range="bytes=0-99"))
    assert part.status_code == 206 and "Content-Encoding" not in part.headers
    assert part.get_data() == (STATIC / "htmx-2.0.11.min.js").read_bytes()[:100]


def test_htmx_fragments_and_422_answers_still_work(login_as):
    web = login_as("receiver")
    for name in ("王女士", "李先生"):
        assert submit(web, form(web, customer_name=name)).status_code == 204
    rows = web.get("/complaints/?q=", htmx=True, headers=browser())
    assert rows.status_code == 200 and rows.headers["Content-Encoding"] == "gzip"
    assert {"hx-request", "accept-encoding"} <= vary(rows)
    assert "<html" not in body(rows).decode()
    refused = web.post("/receiver/new", form(web, customer_name=""), htmx=True, headers=browser(),
                       content_type="multipart/form-data")
    assert refused.status_code == 422
    assert "<html" not in body(refused).decode() and "请填写顾客姓名。" in body(refused).decode()


def test_attachments_are_sent_untouched_with_their_length_and_ranges(login_as):
    web = login_as("receiver")
    photo = jpeg()
    assert submit(web, form(web, photos=[(io.BytesIO(photo), "a.jpg")])).status_code == 204
    complaint = db.session.scalar(select(Complaint))
    url = f"/complaints/{complaint.id}/files/{complaint.attachments[0].id}"
    whole = web.get(url, headers=browser())
    assert whole.status_code == 200 and "Content-Encoding" not in whole.headers
    assert whole.get_data() == photo and int(whole.headers["Content-Length"]) == len(photo)
    assert whole.headers["Cache-Control"] == "no-store"
    part = web.get(url, headers=browser(Range="bytes=0-9"))
    assert part.status_code == 206 and part.get_data() == photo[:10]


def test_a_request_started_by_another_site_is_not_compressed(login_as):
    """BREACH: a page with a secret (CSRF token, a customer's phone) and something the request
    chose (a search) is never compressed for a request another site made the browser send."""
    web = login_as("quality")
    for site in ("cross-site", "same-site"):
        resp = web.get("/complaints/?q=138", headers=browser(**{"Sec-Fetch-Site": site}))
        assert resp.status_code == 200 and "Content-Encoding" not in resp.headers, site
        assert "sec-fetch-site" in vary(resp)
    for site in ("same-origin", "none"):
        resp = web.get("/complaints/?q=138", headers=browser(**{"Sec-Fetch-Site": site}))
        assert resp.headers["Content-Encoding"] == "gzip", site
    static = web.get("/static/app.css", headers=browser(**{"Sec-Fetch-Site": "cross-site"}))
    assert static.headers["Content-Encoding"] == "gzip"   # no secret in a static file
