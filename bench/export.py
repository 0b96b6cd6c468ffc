"""Excel exports at scale (issue 17: a 100,000-row export ≤ 30 s in the worker, with its RSS): the
worker's job function (jobs.exports.export) over bench/scale.py's 1,000,000-complaint databases,
each run in a fresh process so that its peak RSS is its own.

    .venv/bin/python bench/export.py                      # SQLite (/tmp/kesu-bench.db), 100,000 rows
    .venv/bin/python bench/export.py --db postgresql      # PostgreSQL (kesu_bench)
    .venv/bin/python bench/export.py --db both --rows 100000 1000000

The register is exported as quality sees it (every complaint, phones in full) with a date filter
chosen to hold about --rows complaints (all of them for 1,000,000); `--as` exports as another
user (a branch head: phones masked by the SQL rule). The databases must have been loaded by
bench/scale.py; nothing is loaded here, and the export's row and file are removed afterwards.
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import select  # noqa: E402


def rss_mb() -> float:
    import psutil
    return psutil.Process().memory_info().rss / 2**20


def child(kind: str, rows: int, username: str) -> dict:
    """One export in this process: the job function, timed; RSS before it and the process's peak."""
    from bench.report_app import open_bench
    from domain import exports
    from domain.settings import company_tz
    from jobs.exports import export, folder
    from models import db, utcnow
    from models.complaint import Complaint
    from models.report import ExportJob
    from models.user import User
    app, have = open_bench(kind)    # schema up to date (the export_job table), nothing else written
    with app.app_context():
        if have < 900_000:
            sys.exit(f"{kind}: {have:,} complaints — load the database with bench/scale.py first")
        params = {}
        if rows < have:             # the newest `rows` complaints, by whole company-time days
            edge = db.session.scalar(select(Complaint.created_at).order_by(Complaint.created_at.desc())
                                     .offset(rows - 1).limit(1))
            params["from"] = edge.astimezone(company_tz()).date().isoformat()
        who = db.session.scalar(select(User).where(User.username == username))
        job = exports.create(db.session, who, "register", params, utcnow())
        db.session.commit()
        job_id = job.id
        db.session.remove()
        before = rss_mb()
        started = time.perf_counter()
        status = export(job_id)
        seconds = time.perf_counter() - started
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        job = db.session.get(ExportJob, job_id)
        path = exports.file_path(folder(), job)
        size = path.stat().st_size if path else 0
        result = dict(kind=kind, rows=job.rows_done, status=status, seconds=round(seconds, 1),
                      rss_before_mb=round(before, 1), rss_peak_mb=round(peak, 1), file_mb=round(size / 2**20, 1),
                      params=params, user=username)
        if path:
            path.unlink()
        db.session.delete(job)
        db.session.commit()
    return result


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="sqlite")
    ap.add_argument("--rows", type=int, nargs="+", default=[100_000])
    ap.add_argument("--as", dest="username", default="quality")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(args.db, args.rows[0], args.username)))
        return
    for kind in (["sqlite", "postgresql"] if args.db == "both" else [args.db]):
        for rows in args.rows:
            out = subprocess.run([sys.executable, __file__, "--child", "--db", kind, "--rows", str(rows),
                                  "--as", args.username], capture_output=True, text=True)
            if out.returncode:
                print(out.stderr[-2000:])
                sys.exit(out.returncode)
            r = json.loads(out.stdout.strip().splitlines()[-1])
            print(f"  {kind:10} {r['rows']:>9,} rows as {r['user']}: {r['seconds']:6.1f} s in the job "
                  f"({r['rows'] / max(r['seconds'], 0.001):,.0f} rows/s), RSS {r['rss_before_mb']:.0f} MB before, "
                  f"peak {r['rss_peak_mb']:.0f} MB; file {r['file_mb']} MB  [{r['status']}]")


if __name__ == "__main__":
    main()
