"""Made once, announced once (domain.once), for both stored reports: three overlapping runs of the
scheduled step — the half-year summary's on 1 December, the monthly report's on the first working
day — store one report, write one notice per person and queue one e-mail per address."""
import threading

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from domain import halfyear, monthly
from models.complaint import Notification
from models.report import HalfYearReport, MonthlyReport
from models.sla import Outbox
from tests.builders import user
from tests.domain import test_halfyear, test_ledger, test_monthly
from tests.domain.test_channels import smtp_on

REPORTS = {
    # report: (its domain module, its stored model, the data it summarises, the scheduled run's time)
    "halfyear": (halfyear, HalfYearReport, test_ledger.build, test_halfyear.DEC_1),
    "monthly": (monthly, MonthlyReport, test_monthly.november, test_monthly.NOW),
}


def run_at_once(engine, step, n=3) -> list:
    """`step(session)` in `n` threads, each with its own session, released together; their results."""
    errors, results = [], []
    barrier = threading.Barrier(n)

    def run():
        try:
            with Session(engine) as s:
                barrier.wait(10)
                results.append(step(s))
                s.commit()
        except Exception as err:   # noqa: BLE001
            errors.append(err)

    threads = [threading.Thread(target=run) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    return results


@pytest.mark.parametrize("report", REPORTS)
def test_overlapping_runs_write_one_report_one_notice_each_one_mail_each(session, company, report):
    module, model, build, at = REPORTS[report]
    build(session)
    smtp_on(session, 2525, at)
    user(session, "manager").email = "wang@example.com"          # told of both reports
    session.commit()
    results = run_at_once(session.get_bind(), lambda s: module.run_due(s, at))
    assert session.scalar(select(func.count()).select_from(model)) == 1
    assert sum(r["created"] for r in results) == 1
    people = module.recipients(session)
    told = session.execute(select(Notification.user_id, Notification.dedupe_key)
                           .where(Notification.kind == module.NOTICE)).all()
    assert sorted(uid for uid, _k in told) == sorted(people) and len({k for _u, k in told}) == len(people)
    assert session.scalar(select(func.count()).select_from(Outbox).where(Outbox.kind == module.NOTICE)) == 1
