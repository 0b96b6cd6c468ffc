"""The month's stored report (MonthlyReport): made once, announced once.

`make_month` stores the company-wide figures of a month (unique month: overlapping runs write one
row) and, when it wrote the row, tells the managers and quality — an in-app notice and an e-mail
copy, once per person (the notice's unique key). `run_due` is the scheduled job's: on the first
working day of a month (company calendar) or any day after it in that month, last month's report
if it is not there yet.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select

from domain import once
from domain.errors import N_, InvalidInput
from domain.monthly import months
from domain.monthly.figures import figures
from domain.roles import Role
from models.complaint import Notification
from models.report import MonthlyReport

NOTICE = "report:monthly"
READERS = (Role.QUALITY, Role.MANAGER)      # read every month's report, and are told of each new one


def find(session, month: str) -> MonthlyReport | None:
    return session.scalar(select(MonthlyReport).where(MonthlyReport.month == month))


def generate(session, month: str, *, now: datetime, actor=None) -> tuple[MonthlyReport, bool]:
    """The stored report of `month` ("YYYY-MM"): made if absent → (report, True); an existing one is
    returned as it is → (report, False). Two runs at once write one row (domain.once.store_once: the
    month is unique)."""
    from domain.settings import company_tz
    first = months.parse(month)
    if first >= months.this_month(now.astimezone(company_tz()).date()):
        raise InvalidInput(N_("%(m)s 还没有结束，月度报告要等月底以后才能生成。"), field="month", m=months.name(first))
    month = months.name(first)
    return once.store_once(session, MonthlyReport, lambda: find(session, month), lambda: dict(
        month=month, data=figures(session, None, month, now=now), generated_at=now,
        generated_by_id=actor.id if actor is not None else None))


def recipients(session) -> list[int]:
    from domain.notify import users_with
    return sorted(set(users_with(session, Role.MANAGER)) | set(users_with(session, Role.QUALITY)))


def key_prefix(month: str) -> str:
    return f"monthly:{month}:"


def announce(session, report: MonthlyReport, now: datetime) -> int:
    """A notice to every manager and quality reviewer, once per month and person (the key), with an
    e-mail copy for those with an address when e-mail is on. Returns how many notices were written."""
    return once.announce_once(session, NOTICE, key_prefix(report.month), recipients(session), now)


def make_month(session, month: str, actor=None, *, now: datetime, announce_it: bool = True
               ) -> tuple[MonthlyReport, bool, int]:
    """Store `month`'s report if it is not there yet and announce it when new: (report, created, told)."""
    report, created = generate(session, month, now=now, actor=actor)
    told = announce(session, report, now) if created and announce_it else 0
    return report, created, told


def first_working_day(session, first: date) -> date:
    """The month's first working day on the company calendar (holidays and 调休 included)."""
    from domain import calendar
    from domain.settings import company_tz
    cal = calendar.load(session, company_tz())
    day = first
    while not cal.is_workday(day) and day.month == first.month:
        day = date.fromordinal(day.toordinal() + 1)
    return day


def due_month(session, now: datetime) -> str | None:
    """Last month, once this month's first working day has come (company time); else None."""
    from domain.settings import company_tz
    today = now.astimezone(company_tz()).date()
    if today < first_working_day(session, months.this_month(today)):
        return None
    return months.name(months.last_month(today))


def run_due(session, now: datetime) -> dict | None:
    """The scheduled run: last month's report, made and announced once (any number of runs)."""
    month = due_month(session, now)
    if month is None:
        return None
    report, created, told = make_month(session, month, now=now)
    return {"month": month, "report": report.id, "created": created, "told": told}


def email(session, row, _):
    """What the e-mail copy says (domain.messages): the month's headline figures and the page."""
    key = session.scalar(select(Notification.dedupe_key).where(Notification.id == row.notification_id)) or ""
    month = key[len("monthly:"):].split(":", 1)[0] if key.startswith("monthly:") else ""
    report = find(session, month) if month else None
    if report is None:
        return None, [], ""
    d = report.data
    subject = _("【月度报告】%(m)s 客诉月度报告", m=month)
    lines = [_("受理投诉 %(n)d 条（上月 %(p)d 条）；已结案 %(c)d 条，按时结案 %(t)d 条；二次投诉 %(r)d 条。", n=d["total"],
               p=d["previous"], c=d["closed"], t=d["closed_in_time"], r=d["repeats"])]
    agenda = [row[1] for row in d["matrix"] if row[-1]]
    if agenda:
        lines.append(_("高频类别：%(c)s", c="、".join(agenda)))
    return subject, lines, f"/complaints/monthly?month={month}"
