"""What every page shares: security headers, CSP-clean markup, page weight, /healthz."""
import gzip
import re
from pathlib import Path

import pytest

from tests.conftest import Web

ROOT = Path(__file__).resolve().parents[2]
PAGES_BY_USER = {
    None: ["/login"],
    "admin": ["/admin/", "/admin/units", "/admin/units/1", "/admin/users", "/admin/users/1", "/admin/users/new",
              "/admin/audit"],
    "receiver": ["/receiver/"], "handler": ["/handler/"], "quality": ["/quality/"], "manager": ["/manager/"],
}


def pages(web, demo_user):
    if demo_user:
        web.login(demo_user)
    for path in PAGES_BY_USER[demo_user]:
        resp = web.get(path)
        assert resp.status_code == 200, path
        yield path, resp


@pytest.mark.parametrize("demo_user", PAGES_BY_USER)
def test_security_headers_and_no_inline_script_or_style(demo, web, demo_user):
    for path, resp in pages(web, demo_user):
        csp = resp.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
        assert resp.headers["X-Frame-Options"] == "DENY"
        assert resp.headers["Cache-Control"] == "no-store"
        html = resp.get_data(as_text=True)
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), path        # no inline <script>
        assert not re.search(r"\son[a-z]+\s*=", html), path                      # no onclick= …
        assert not re.search(r"\sstyle\s*=", html), path                         # no style= (CSP)
        assert '"includeIndicatorStyles":false' in html
        assert "X-CSRFToken" in html  # hx-headers on <body>


def test_first_page_load_is_under_60_kb_as_transferred(demo, web):
    """Size, not speed: the login page plus everything it loads, gzipped as a browser asks for
    (bench/first_load.py measures every role's pages)."""
    asks = {"Accept-Encoding": "gzip, deflate, br"}
    page = web.get("/login", headers=dict(asks))
    html = gzip.decompress(page.get_data()).decode()
    assets = re.findall(r'(?:src|href)="(/static/[^"]+)"', html)
    assert {"/static/app.css", "/static/app.js", "/static/htmx-2.0.11.min.js"} <= {a.split("?")[0] for a in assets}
    total = len(page.get_data())
    for asset in assets:
        total += len(web.get(asset, headers=dict(asks)).get_data())
    assert total <= 60 * 1024, total


def test_static_files_are_cached_for_a_year_when_versioned(web):
    url = re.search(r'href="(/static/app\.css\?v=[0-9a-f]{12})"', web.get("/login").get_data(as_text=True)).group(1)
    assert web.get(url).headers["Cache-Control"] == "public, max-age=31536000, immutable"


def test_vendored_htmx_is_pinned_and_local(web):
    html = web.get("/login").get_data(as_text=True)
    assert "https://" not in re.sub(r'<meta name="htmx-config"[^>]*>', "", html).split("</head>")[0]
    assert (ROOT / "static" / "htmx-2.0.11.min.js").stat().st_size > 40_000


def test_healthz_ok(web):
    resp = web.get("/healthz")
    assert resp.status_code == 200
    assert resp.json["database"] == "ok" and resp.json["redis"] == "ok"


def test_healthz_503_when_redis_is_down(make_app):
    app = make_app(REDIS_URL="redis://127.0.0.1:1/0")
    resp = app.test_client().get("/healthz")
    assert resp.status_code == 503
    assert resp.json["redis"].startswith("error") and resp.json["database"] == "ok"


def test_healthz_503_when_database_is_down(make_app, tmp_path):
    app = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/missing-dir/nope.db")
    resp = app.test_client().get("/healthz")
    assert resp.status_code == 503 and resp.json["database"].startswith("error")


def test_times_are_shown_in_company_time_zone(app):
    from datetime import datetime, timezone
    with app.test_request_context():
        fmt = app.jinja_env.filters["dt"]
        assert fmt(datetime(2026, 11, 23, 16, 30, tzinfo=timezone.utc)) == "2026-11-24 00:30"


def test_the_dt_filter_matches_babel_for_numeric_patterns(app):
    """The fast path (numbers only) writes exactly what Babel writes, in the company's time zone."""
    from datetime import datetime, timezone

    from flask_babel import format_datetime
    dt_filter = app.jinja_env.filters["dt"]
    moments = [datetime(2026, 12, 31, 16, 5, 9, tzinfo=timezone.utc), datetime(2026, 2, 1, 0, 0),   # naive = UTC
               datetime(2026, 6, 30, 23, 59, 59, tzinfo=timezone.utc)]
    with app.test_request_context("/"):
        for fmt in ("yyyy-MM-dd HH:mm", "MM-dd HH:mm", "yyyy-MM-dd HH:mm:ss", "yyyy-MM-dd", "HH:mm"):
            for m in moments:
                assert dt_filter(m, fmt) == format_datetime(m, fmt), (fmt, m)
        assert dt_filter(moments[0]) == "2027-01-01 00:05"
        assert dt_filter(moments[0], "MMM d") == format_datetime(moments[0], "MMM d")     # words: Babel
        assert dt_filter(None) == ""
