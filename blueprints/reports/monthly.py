"""The monthly report page (SPEC §8): /complaints/monthly?month=2026-11 for quality and the
manager (every complaint; a past month from its stored report when there is one) and for heads
(the complaints of the units they cover, always counted now). Charts are drawn on the server
(templates/_macros/charts.html); every figure links to the register filtered to the complaints it
counts (domain.registry's drill-down filters), whose labels the register shows as chips."""
from __future__ import annotations

from datetime import date, datetime

from flask import request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from blueprints._access import only
from blueprints._errors import error_page
from blueprints._render import clock_label, company_tz, render, severity_label, stage_label
from blueprints.reports import bp
from domain import monthly, registry
from domain.errors import N_, InvalidInput
from domain.monthly import months
from domain.scoping import covered_unit_ids
from models import db, utcnow

monthly_readers = only(*monthly.READERS, also=lambda user: bool(user.is_head))

STATE_LABELS = {"in_time": N_("按时完成"), "late": N_("超时完成"), "overdue": N_("超期未完成"), "running": N_("进行中")}


def labels() -> dict:
    """Names of the stored codes in the reader's language."""
    from domain.intake import CHANNEL_LABELS, TYPE_LABELS, URGENCY_LABELS
    from domain.workflow.choices import CAUSES
    return {"channel": {k.value: _(v) for k, v in CHANNEL_LABELS.items()},
            "urgency": {k.value: _(v) for k, v in URGENCY_LABELS.items()},
            "type": {k.value: _(v) for k, v in TYPE_LABELS.items()},
            "cause": {k: _(v) for k, v in CAUSES.items()},
            "state": {k: _(v) for k, v in STATE_LABELS.items()}}


def drill_link(d: dict):
    """link(**filters) → the register with the month's dates, complaints only, and `filters`
    (month="YYYY-MM" for another month; units as a list)."""
    def link(month=None, **filters):
        if month:       # one of the report's own months (the trend reaches back before 2000 for 2000-01)
            first = date(int(month[:4]), int(month[5:7]), 1)
            start, last = first.isoformat(), months.last_day(first).isoformat()
        else:
            start, last = d["first"], d["last"]
        args = {"from": start, "to": last, "type": "complaint"}
        for key, value in filters.items():
            if value is None:
                value = registry.NONE
            args[key] = ",".join(str(u) for u in value) if isinstance(value, (list, tuple)) else value
        return url_for("complaints.index", **args)
    return link


def duration(seconds) -> str:
    if seconds is None:
        return "—"
    hours = seconds / 3600
    if hours < 1:
        return _("%(n)d 分钟", n=round(seconds / 60))
    if hours < 48:
        return _("%(n)s 小时", n=f"{hours:.1f}".rstrip("0").rstrip("."))
    return _("%(n)s 天", n=f"{hours / 24:.1f}".rstrip("0").rstrip("."))


def month_asked(text: str | None, today) -> date:
    """The month a reader asked for ("YYYY-MM"; none → last month): from 2000-01 to this month,
    else InvalidInput saying what is wrong (the page and its Excel button)."""
    if not text:
        return months.last_month(today)
    match = months.MONTH_RE.match(text.strip())
    if match and 1 <= int(match.group(2)) <= 12 and int(match.group(1)) < months.FIRST_YEAR:
        raise InvalidInput(N_("月度报告从 %(y)d 年 1 月开始，请选择以后的月份。"), field="month", y=months.FIRST_YEAR)
    first = months.parse(text)
    if first > months.this_month(today):
        raise InvalidInput(N_("这个月还没到，请选择本月或以前的月份。"), field="month")
    return first


@bp.route("/monthly")
@monthly_readers
def monthly_page():
    now = utcnow()
    today = now.astimezone(company_tz()).date()
    try:
        first = month_asked(request.args.get("month"), today)
    except InvalidInput as err:
        return error_page(422, _("月份不对"), _(err.message, **err.params))
    month = months.name(first)
    everything = covered_unit_ids(db.session, current_user) is None
    stored = monthly.find(db.session, month) if everything else None
    live = stored is None or request.args.get("live") == "1" or stored.data.get("version") != monthly.VERSION
    d = monthly.figures(db.session, current_user, month, now=now) if live else stored.data
    kinds = [row[0] for row in d["clocks"]]
    clock = request.args.get("clock") if request.args.get("clock") in kinds else ("close" if "close" in kinds or not kinds
                                                                                    else kinds[0])
    current = months.this_month(today)
    names = labels()
    return render("reports/monthly.html", d=d, stored=None if live else stored, live_of_stored=stored if live else None,
                  month=first, in_progress=first == current, everything=everything,
                  previous=months.name(months.shift(first, -1)),
                  earlier=months.name(months.shift(first, -1)) if first.year > months.FIRST_YEAR or first.month > 1 else None,
                  following=months.name(months.shift(first, 1)) if first < current else None,
                  choices=_choices(today, first), link=drill_link(d), labels=names,
                  duration=duration, clock=clock, clock_label=clock_label, stage_label=stage_label,
                  severity_label=severity_label, computed_at=datetime.fromisoformat(d["computed_at"]), state_names=[names["state"][s] for s in registry.CLOCK_STATES])


def _choices(today, first) -> list[str]:
    """The picker's months: the last two years, and the month shown when it is older."""
    recent = [months.name(m) for m in months.recent(today)]
    return recent if months.name(first) in recent else [*recent, months.name(first)]


@bp.app_template_filter("short_count")
def short_count(n: int) -> str:
    """A column's number in few characters: 7.3万 (in English 73k)."""
    from flask_babel import get_locale
    if n < 10000:
        return str(n)
    if str(get_locale()) == "en":
        return f"{n / 1000:.0f}k"
    return f"{n / 10000:.0f}万" if n >= 100000 else f"{n / 10000:.1f}万"


# --- the register's chips for the drill-down filters ------------------------------------------------

@bp.app_context_processor
def drill_chips():
    """`drill_chip(key, value)`: a drill-down filter in words, for the register's chips."""
    def drill_chip(key, value):
        names = labels()
        if key in ("channel", "urgency", "type", "cause"):
            word = _("未填") if value == registry.NONE else names[key].get(value, value)
        elif key == "dept":
            word = _("未分派") if value == registry.NONE else _unit_name(value)
        elif key == "units":
            word = "、".join(_unit_name(u) for u in value[:6]) + ("…" if len(value) > 6 else "")
        elif key == "sat":
            word = _("有评价") if value == registry.ANY else _("%(n)s 分", n=value)
        elif key == "repeat":
            word = _("是")
        elif key == "clock":
            word = clock_label(value)
        elif key == "clock_state":
            word = names["state"].get(value, value)
        elif key == "passed":
            word = stage_label(value)
        else:
            word = str(value)
        return f"{_(CHIP_KEYS.get(key, key))}：{word}"
    def drill_clear(args):
        return {k: v for k, v in args.items() if k not in registry.DRILL_KEYS}
    return {"drill_chip": drill_chip, "drill_args": registry.drill_args, "drill_clear": drill_clear}


CHIP_KEYS = {"type": N_("类型"), "channel": N_("渠道"), "urgency": N_("紧急程度"), "dept": N_("责任部门"),
             "units": N_("受理单位"), "product": N_("商品"), "cause": N_("原因类别"), "sat": N_("满意度"),
             "repeat": N_("二次投诉"), "clock": N_("时限"), "clock_state": N_("状态"), "passed": N_("离开过的阶段")}


def _unit_name(unit_id) -> str:
    from models.org import OrgUnit
    unit = db.session.get(OrgUnit, int(unit_id))
    return unit.name if unit is not None else str(unit_id)
