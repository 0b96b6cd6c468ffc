"""The half-year summary at scale (issue 7): the figures of the last whole half-year over the
benchmark database of bench/scale.py (1,000,000 complaints over 14 months, so ≈ 430,000 in the
half-year), and the Excel file written from the snapshot.

    .venv/bin/python bench/halfyear.py                     # SQLite (/tmp/kesu-bench.db)
    .venv/bin/python bench/halfyear.py --db postgresql     # PostgreSQL (kesu_bench)

Loads the database first when it is empty (as bench/scale.py does, a few minutes). The summary
runs as a job (RQ cron) or from the CLI, never in a page request; it is measured here to show
it stays a matter of seconds. Nothing is written to the database (the transaction is rolled back).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, select  # noqa: E402

from bench.report_app import open_bench  # noqa: E402
from bench.scale import bulk_load  # noqa: E402
from models import db, utcnow  # noqa: E402


def run(kind: str, rows: int, repeat: int) -> None:
    from domain import halfyear
    from domain.settings import company_tz
    from models.complaint import Complaint
    app, have = open_bench(kind)
    with app.app_context():
        if have == 0:
            print(f"  {kind}: loading {rows:,} complaints …")
            bulk_load(kind, rows)
            with db.engine.begin() as conn:
                conn.exec_driver_sql("ANALYZE")
            have = db.session.scalar(select(func.count()).select_from(Complaint))
        now = utcnow()
        start, end = halfyear.last_period(now.astimezone(company_tz()).date())
        times, data = [], None
        for _ in range(repeat):
            t0 = time.perf_counter()
            data = halfyear.summarize(db.session, start, end, now)
            times.append(time.perf_counter() - t0)
            db.session.rollback()
        report, _created = halfyear.generate(db.session, start, end, now)
        t0 = time.perf_counter()
        xlsx = halfyear.to_xlsx(report, labels=halfyear.labels())
        xlsx_s = time.perf_counter() - t0
        db.session.rollback()
    print(f"  {kind}: {have:,} complaints; half-year {start} – {end}: {data['totals']['received']:,} received")
    print(f"  summary figures: median {statistics.median(times):.2f} s, max {max(times):.2f} s ({repeat} runs)")
    print(f"  Excel from the snapshot: {xlsx_s * 1000:.0f} ms, {len(xlsx) / 1024:.1f} KB")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="sqlite")
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    for kind in (["sqlite", "postgresql"] if args.db == "both" else [args.db]):
        run(kind, args.rows, args.repeat)


if __name__ == "__main__":
    main()
