"""The monthly report at scale (issue 17): its figures and its page over the benchmark databases of
bench/scale.py (1,000,000 complaints over 14 months, ≈ 70,000 in a month), as quality (everything)
and as a store head (上海徐汇店: their store only).

    .venv/bin/python bench/monthly.py                     # SQLite (/tmp/kesu-bench.db)
    .venv/bin/python bench/monthly.py --db postgresql     # PostgreSQL (kesu_bench)
    .venv/bin/python bench/monthly.py --db both --month 2026-10

The databases must be loaded already (bench/scale.py does it); this never loads or changes their
complaints. It brings the schema up to date (as scale.py does: new, empty tables), logs the two
users in, and measures:
- figures: domain.monthly.figures for the month, in process (live: what a head always gets, and
  what quality gets for a month without a stored report);
- page (live): GET /complaints/monthly?month=… through the app (test client: routing, session,
  queries, template), server time per request;
- the register behind one figure of each kind (the list page; its count fragment's p50 beside it);
- with the eleven months before stored (as the scheduled job leaves them; the 12-month trend then
  reads their totals instead of counting 800,000 complaints): the figures and the live page again;
- page (stored): the same page when the month's report is stored.
Reports are made in the bench's own transaction and rolled back after; those requests run in that
app context (full_dispatch_request, after a login made in the same transaction).
p50/p95 over --requests runs after 3 warm-ups.
"""
from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import select  # noqa: E402

from bench.report_app import open_bench  # noqa: E402
from bench.scale import Client, percentile  # noqa: E402
from models import db, utcnow  # noqa: E402

BUDGET_MS = 1000
CHART_BUDGET = 30 * 1024
SVG_RE = re.compile(r"<svg\b.*?</svg>", re.S)


def timed(fn, n):
    for _ in range(3):
        fn()
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return percentile(out, 0.5), percentile(out, 0.95)


DRILL_KEYS = ("category", "channel", "units", "dept", "product", "cause", "sat", "clock_state", "passed", "repeat")


def _drill_links(body: str) -> dict:
    """The first drill-down link of each kind on the report page."""
    import html
    found = {}
    for href in re.findall(r'href="(/complaints/\?[^"]+)"', body):
        href = html.unescape(href)
        for key in DRILL_KEYS:
            if f"&{key}=" in href and key not in found and (key != "category" or "urgency" not in href):
                found[key] = href
    return found


def run(kind: str, month: str | None, n: int) -> list:
    from domain import monthly
    from domain.settings import company_tz
    from models.user import User
    app, have = open_bench(kind)
    if have < 900_000:
        print(f"  {kind}: {have:,} complaints — load the benchmark database with bench/scale.py first")
        sys.exit(2)
    with app.app_context():
        month = month or monthly.months.name(monthly.months.last_month(utcnow().astimezone(company_tz()).date()))
        users = {name: db.session.scalar(select(User).where(User.username == name)) for name in ("quality", "xh_head")}
        results, sizes = [], {}
        for name, who in users.items():
            data = {}

            def compute():
                data.update(monthly.figures(db.session, who, month, now=utcnow()))
                db.session.rollback()
            results.append((f"figures, {name}", *timed(compute, n), f"{data['total']:,} complaints"))
        db.session.rollback()
    print(f"  {kind}: {have:,} complaints; month {month}")

    for name in ("quality", "xh_head"):
        client = Client(app, name)
        page = f"/complaints/monthly?month={month}"
        ms, status, size = client.timed("GET", page)
        assert status == 200, (name, status)
        body = client.c.get(page).get_data(as_text=True)
        sizes[name] = (size, max((len(s.encode()) for s in SVG_RE.findall(body)), default=0),
                       len(SVG_RE.findall(body)))
        results.append((f"page (live), {name}", *timed(lambda: client.timed("GET", page), n), f"{size:,} bytes"))
        if name == "quality":
            drills = _drill_links(body)

    # The register behind a figure: the list and its count for one link of each kind (as quality).
    client = Client(app, "quality")
    for key, href in drills.items():
        count = href.replace("/complaints/?", "/complaints/count?")
        results.append((f"drill-down: {key}", *timed(lambda: client.timed("GET", href), max(3, n // 3)),
                        f"count {timed(lambda: client.timed('GET', count, headers={'HX-Request': 'true'}), 3)[0]:.0f} ms"))

    # Stored reports: made in this app context's transaction (never committed); the requests run in
    # the same context, so they read them. First the eleven months before (as the scheduled job
    # leaves them: the trend then reads their totals), then the month itself.
    from flask_login import login_user
    with app.app_context():
        quality = db.session.scalar(select(User).where(User.username == "quality"))
        from datetime import timedelta

        from domain.accounts import start_session
        start_session(db.session, quality, now=utcnow(), lifetime=timedelta(hours=1))   # rolled back with the rest
        first = monthly.months.parse(month)
        t0 = time.perf_counter()
        for back in range(11, 0, -1):
            monthly.generate(db.session, monthly.months.name(monthly.months.shift(first, -back)), now=utcnow())
        earlier_s = time.perf_counter() - t0

        def page_here(expect):
            def fetch():
                with app.test_request_context(f"/complaints/monthly?month={month}"):
                    login_user(quality)
                    resp = app.full_dispatch_request()
                    assert resp.status_code == 200 and expect in resp.get_data(as_text=True), resp.status_code
            return fetch
        results.append(("figures, quality (earlier months stored)",
                        *timed(lambda: monthly.figures(db.session, quality, month, now=utcnow()), n), None))
        results.append(("page (live, earlier months stored), quality", *timed(page_here("实时计算"), n), None))
        t0 = time.perf_counter()
        monthly.generate(db.session, month, now=utcnow())
        made_ms = (time.perf_counter() - t0) * 1000
        results.append(("page (stored report), quality", *timed(page_here("报告生成于"), n), None))
        db.session.rollback()
    results.append(("making the month's stored report (once)", made_ms, made_ms, None))
    print(f"  (the eleven months before stored in {earlier_s:.1f} s, inside the bench's transaction)")
    with app.app_context():
        db.engine.dispose()
    for name, (size, svg, count) in sizes.items():
        print(f"  page as {name}: {size:,} bytes, {count} charts, largest {svg:,} bytes "
              f"({'within' if svg <= CHART_BUDGET else 'OVER'} the 30 KB budget)")
    return results


def report(kind, results):
    print(f"\n{kind}: server time, ms (budget {BUDGET_MS} ms for the page)")
    print(f"  {'':46} {'p50':>8} {'p95':>8}")
    for label, p50, p95, extra in results:
        tail = f"  ({extra})" if extra else ""
        print(f"  {label:46} {p50:8.1f} {p95:8.1f}{tail}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="sqlite")
    ap.add_argument("--month", help="YYYY-MM (default: last month, company time)")
    ap.add_argument("--requests", type=int, default=20)
    args = ap.parse_args()
    for kind in (["sqlite", "postgresql"] if args.db == "both" else [args.db]):
        report(kind, run(kind, args.month, args.requests))


if __name__ == "__main__":
    main()
