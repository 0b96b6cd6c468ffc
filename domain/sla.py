"""Time limits (SPEC §4.1–4.2): the clocks a complaint runs and the policy presets that set
their limits, with the seed and clause each number comes from.

A policy maps each clock to a limit (amount + unit). `limits_for(preset, complaint)` applies the
preset's rules for the complaint's type, severity and domestic/foreign customer; `schedule()`
turns a limit into the stored deadline, warn time (75 % of the limit used) and escalation time
(deadline + 25 % of the limit), in working time where the limit is in working units. The clocks
are started and stopped by the workflow (next step of issue 6); this module only computes.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from domain.calendar import Unit, WorkingCalendar
from domain.errors import N_

WARN_AT = Decimal("0.75")
ESCALATE_AFTER = Decimal("0.25")


class ClockKind(StrEnum):
    DISPATCH = "dispatch"            # registered → dispatched
    FIRST_CONTACT = "first_contact"  # registered → first contact with the customer logged
    INITIAL_CAUSE = "initial_cause"  # dispatched → root cause recorded
    PROPOSAL = "proposal"            # dispatched → proposal submitted
    APPROVAL = "approval"            # proposal submitted → approved / rejected
    ANSWER = "answer"                # registered → customer answered
    FOLLOW_UP = "follow_up"          # answered → survey recorded
    CLOSE = "close"                  # registered → closed


CLOCK_LABELS = {ClockKind.DISPATCH: N_("分派"), ClockKind.FIRST_CONTACT: N_("首次联系"),
                ClockKind.INITIAL_CAUSE: N_("初步原因"), ClockKind.PROPOSAL: N_("处理方案"),
                ClockKind.APPROVAL: N_("审批"), ClockKind.ANSWER: N_("答复客户"), ClockKind.FOLLOW_UP: N_("回访"),
                ClockKind.CLOSE: N_("结案")}


@dataclass(frozen=True)
class Limit:
    amount: Decimal
    unit: Unit
    source: str       # where the number comes from (seed and clause)


def L(amount, unit, source) -> Limit:
    return Limit(Decimal(str(amount)), Unit(unit), source)


H, D, WH, WD = Unit.CALENDAR_HOURS, Unit.CALENDAR_DAYS, Unit.WORKING_HOURS, Unit.WORKING_DAYS

# The generic procedure (seed 001, last document: 24 h first response, 48 h solution, 72 h revisit).
GENERIC = {
    ClockKind.DISPATCH: L(24, H, "generic: 24 小时内受理转办"),
    ClockKind.FIRST_CONTACT: L(24, H, "seed 001 末篇: 24 小时内与顾客联系"),
    ClockKind.INITIAL_CAUSE: L(48, H, "generic: 48 小时内查明原因"),
    ClockKind.PROPOSAL: L(48, H, "seed 001 末篇: 48 小时内提出解决方案"),
    ClockKind.APPROVAL: L(24, H, "generic: 审批 24 小时"),
    ClockKind.ANSWER: L(5, WD, "generic: 5 个工作日内答复"),
    ClockKind.FOLLOW_UP: L(72, H, "seed 004 / seed 001 末篇: 解决后 72 小时内回访"),
    ClockKind.CLOSE: L(15, D, "generic: 15 天结案"),
}

PRESETS: dict[str, dict] = {
    "generic": {"label": N_("通用"), "limits": GENERIC},
    # Seed 002 (bank): verify and dispatch within 24 h; answer within 5 working days; close within
    # 10 working days; consultations answered within 3 working days.
    "bank": {"label": N_("银行"), "limits": {
        **GENERIC,
        ClockKind.DISPATCH: L(24, H, "seed 002: 24 小时内核实分派"),
        ClockKind.ANSWER: L(5, WD, "seed 002: 5 个工作日内答复客户"),
        ClockKind.CLOSE: L(10, WD, "seed 002: 10 个工作日内办结"),
    }, "inquiry": {ClockKind.ANSWER: L(3, WD, "seed 002: 咨询 3 个工作日内回复")},
        # "复杂投诉需在7个工作日内给予完整回复": serious and major complaints count as complex.
        "severity": {sev: {ClockKind.ANSWER: L(7, WD, "seed 002: 复杂投诉 7 个工作日内完整回复")}
                     for sev in ("serious", "major")}},
    # Seed 000 (IATF 16949 procedure): initial cause within 12 h; containment/actions within 3 days.
    "iatf": {"label": N_("汽车零部件 IATF 16949"), "limits": {
        **GENERIC,
        ClockKind.INITIAL_CAUSE: L(12, H, "seed 000 IATF: 12 小时内初步原因分析"),
        ClockKind.PROPOSAL: L(3, D, "seed 000 IATF: 3 天内纠正措施"),
    }},
    # Food plant (seed 003 and the food-factory procedure of seed 000): contact the customer within
    # 30 min, pass the complaint on within 1 h, a test report within 48 h for product quality (24 h
    # first findings for logistics, service …), investigation within 3 working days.
    "food": {"label": N_("食品厂"), "limits": {
        **GENERIC,
        ClockKind.FIRST_CONTACT: L("0.5", H, "seed 003: 受理后 30 分钟内与客户取得联系"),
        ClockKind.DISPATCH: L(1, H, "seed 003: 一般投诉 1 小时内转交处理部门"),
        ClockKind.INITIAL_CAUSE: L(24, H, "seed 003: 物流、服务等 24 小时内初步调查结果"),
        ClockKind.PROPOSAL: L(3, WD, "seed 000 食品厂 3.3: 调查三个工作日内完成"),
    }, "category": {"产品质量": {ClockKind.INITIAL_CAUSE: L(48, H, "seed 003: 产品质量 48 小时内出具检验报告")}}},
    # Seed 001 (store chain): handled within 15 days (domestic) / 18 days (foreign) from the market
    # department's acceptance; branch 5 days, market department 7 days, processing unit 2 days.
    "store-chain": {"label": N_("连锁门店"), "limits": {
        **GENERIC,
        ClockKind.DISPATCH: L(5, D, "seed 001 四.2: 销售分公司 5 天"),
        ClockKind.INITIAL_CAUSE: L(2, D, "seed 001 四.2: 加工单位 2 天"),
        ClockKind.PROPOSAL: L(7, D, "seed 001 四.2: 市场部 7 天"),
        ClockKind.CLOSE: L(15, D, "seed 001 四.1: 国内 15 天"),
    }, "foreign": {ClockKind.CLOSE: L(18, D, "seed 001 四.1: 国外 18 天")}},
}
# Inquiries (seed 003): transferred within 24 h, answered within 3 working days, in every preset.
INQUIRY = {ClockKind.DISPATCH: L(24, H, "seed 003: 咨询 24 小时内转办"),
           ClockKind.ANSWER: L(3, WD, "seed 003: 咨询 3 个工作日内答复")}


def limits_for(preset: str, *, type: str = "complaint", foreign: bool = False, severity: str | None = None,
               category: str | None = None, overrides: dict | None = None) -> dict[ClockKind, Limit]:
    """The limits that apply to a complaint under `preset` (unknown → generic): the preset's table
    with the admin's edits (`overrides`), then the preset's rules for foreign customers, for the
    severity and for the (top-level) category; inquiries keep their own short path."""
    policy = PRESETS.get(preset, PRESETS["generic"])
    limits = dict(policy["limits"])
    if overrides:
        limits.update(overrides)
    if foreign:
        limits.update(policy.get("foreign", {}))
    if severity:
        limits.update(policy.get("severity", {}).get(severity, {}))
    if category:
        limits.update(policy.get("category", {}).get(category, {}))
    if type == "inquiry":
        limits.update(INQUIRY)
        limits.update(policy.get("inquiry", {}))
    return limits


@dataclass(frozen=True)
class Schedule:
    deadline: datetime
    warn_at: datetime
    escalate_at: datetime
    confirmed: bool          # False when a day it crossed is in a year without a published calendar


def special_rules(preset: str) -> list[tuple[str, str, ClockKind, Limit]]:
    """The preset's rules beyond its table, for the admin page: (kind of rule, value, clock, limit)."""
    policy = PRESETS.get(preset, PRESETS["generic"])
    out = [("foreign", "", k, v) for k, v in policy.get("foreign", {}).items()]
    for name in ("severity", "category"):
        for value, rule in policy.get(name, {}).items():
            out += [(name, value, k, v) for k, v in rule.items()]
    return out


def schedule(calendar: WorkingCalendar, start: datetime, limit: Limit) -> Schedule:
    deadline, confirmed = calendar.add(start, limit.amount, limit.unit)
    if limit.unit in (H, D):
        span = deadline - start
        return Schedule(deadline, start + span * float(WARN_AT), deadline + span * float(ESCALATE_AFTER), confirmed)
    # Working units: 75 % and 125 % of the working time the limit gives.
    span = calendar.working_time_between(start, deadline)
    hours = Decimal(span.total_seconds()) / 3600
    warn, sure_w = calendar.add(start, hours * WARN_AT, WH)
    escalate, sure_e = calendar.add(deadline, hours * ESCALATE_AFTER, WH)
    return Schedule(deadline, warn, escalate, confirmed and sure_w and sure_e)


def remaining(calendar: WorkingCalendar, now: datetime, deadline: datetime, unit: Unit) -> timedelta:
    """Time left (negative: overdue), in working time for working limits — for countdowns."""
    if unit in (WH, WD):
        return calendar.working_time_between(now, deadline)
    return deadline - now
