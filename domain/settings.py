"""Company settings that an administrator may change, with their defaults; and the company's
time zone, which the installation sets (KESU_COMPANY_TZ)."""
from __future__ import annotations

import os
import re
from datetime import datetime
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from domain import audit, sla
from domain.calendar import Unit
from domain.errors import InvalidInput, InvalidInputs, N_, NotAllowed
from domain.money import parse_amount
from domain.roles import Role
from domain.severity import DEFAULT_MAJOR_THRESHOLD
from models.setting import Setting, put

MAJOR_THRESHOLD = "major_threshold"


def _stored_amount(session, key, default: Decimal) -> Decimal:
    row = session.get(Setting, key)
    return Decimal(row.value) if row is not None else default


def major_threshold(session) -> Decimal:
    """The amount (CNY) at or above which a complaint is forced to major (SPEC §2)."""
    return _stored_amount(session, MAJOR_THRESHOLD, DEFAULT_MAJOR_THRESHOLD)


def set_major_threshold(session, actor, value, ip: str | None = None, *, now: datetime) -> Decimal:
    return _set_amount(session, actor, MAJOR_THRESHOLD, value, major_threshold(session), ip, now)


def _set_amount(session, actor, key, value, before, ip, now) -> Decimal:
    if not actor.has_role(Role.ADMIN):
        raise NotAllowed(N_("只有系统管理员可以修改设置。"))
    amount = parse_amount(value, key, minimum=Decimal(1), required=True, message=N_("请填写金额数字，例如 50000。"),
                          out_of_range=N_("金额须在 1 元到 10 亿元之间。"))
    if amount == before:
        return amount
    put(session, key, str(amount), by_id=actor.id, now=now)
    audit.record(session, audit.SETTING_CHANGED, actor_id=actor.id, target=f"setting:{key}", ip=ip, now=now,
                 before=str(before), after=str(amount))
    return amount


HEAD_APPROVAL_LIMIT = "head_approval_limit"
DEFAULT_HEAD_APPROVAL_LIMIT = Decimal("2000")   # below this, not major/serious: the department head approves


def head_approval_limit(session) -> Decimal:
    """Up to this amount a department head approves a minor/general complaint's resolution (§3)."""
    return _stored_amount(session, HEAD_APPROVAL_LIMIT, DEFAULT_HEAD_APPROVAL_LIMIT)


def set_head_approval_limit(session, actor, value, ip: str | None = None, *, now: datetime) -> Decimal:
    return _set_amount(session, actor, HEAD_APPROVAL_LIMIT, value, head_approval_limit(session), ip, now)


SLA_PRESET = "sla_preset"


def company_tz() -> ZoneInfo:
    """The company's time zone (KESU_COMPANY_TZ, default Asia/Shanghai): the one reader for
    screens, Babel, jobs, the CLI and the rules (dates, numbers by month, working hours)."""
    return ZoneInfo(os.environ.get("KESU_COMPANY_TZ", "Asia/Shanghai"))


def sla_preset(session) -> str:
    row = session.get(Setting, SLA_PRESET)
    return row.value if row is not None else "generic"


DIGEST_TIMES = "digest_times"
DEFAULT_DIGEST_TIMES = {"head": "08:30", "manager": "08:30"}


def digest_times(session) -> dict[str, str]:
    """When the morning digests go out (company time, working days): 'HH:MM' per audience."""
    row = session.get(Setting, DIGEST_TIMES)
    value = dict(DEFAULT_DIGEST_TIMES)
    if row is not None and isinstance(row.value, dict):
        value.update({k: v for k, v in row.value.items() if k in DEFAULT_DIGEST_TIMES})
    return value


def set_digest_times(session, actor, head: str, manager: str, ip: str | None = None, *,
                     now: datetime) -> dict[str, str]:
    if not actor.has_role(Role.ADMIN):
        raise NotAllowed(N_("只有系统管理员可以修改设置。"))
    value = {}
    for name, raw in (("head", head), ("manager", manager)):
        raw = (raw or "").strip().replace("：", ":")
        match = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)", raw)
        if not match:
            raise InvalidInput(N_("请按 时:分 填写，例如 08:30。"), field=f"digest_{name}")
        value[name] = f"{int(match.group(1)):02d}:{match.group(2)}"
    put(session, DIGEST_TIMES, value, by_id=actor.id, now=now)
    audit.record(session, audit.SETTING_CHANGED, actor_id=actor.id, target=f"setting:{DIGEST_TIMES}", ip=ip, now=now,
                 after=f"{value['head']}/{value['manager']}")
    return value


SLA_OVERRIDES = "sla_overrides"


def sla_overrides(session) -> dict:
    """The admin's edits to the chosen preset: clock kind → Limit."""
    row = session.get(Setting, SLA_OVERRIDES)
    out = {}
    if row is not None and isinstance(row.value, dict):
        for kind, (amount, unit) in row.value.items():
            if kind in set(sla.ClockKind):
                out[sla.ClockKind(kind)] = sla.L(amount, unit, "管理员修改")
    return out


def set_sla_preset(session, actor, preset: str, ip: str | None = None, *, now: datetime) -> str:
    """Choose a preset (its own numbers: earlier edits are dropped). Running clocks keep theirs."""
    if not actor.has_role(Role.ADMIN):
        raise NotAllowed(N_("只有系统管理员可以修改设置。"))
    if preset not in sla.PRESETS:
        raise InvalidInput(N_("请选择一个时限方案。"), field="preset")
    before = sla_preset(session)
    _store(session, actor, SLA_PRESET, preset, now)
    session.query(Setting).filter(Setting.key == SLA_OVERRIDES).delete()
    audit.record(session, audit.SETTING_CHANGED, actor_id=actor.id, target=f"setting:{SLA_PRESET}", ip=ip, now=now,
                 before=before, after=preset)
    return preset


MAX_LIMIT_HOURS = 24 * 366


def set_sla_limits(session, actor, limits: dict, ip: str | None = None, *, now: datetime) -> dict:
    """Edit the chosen preset: {clock kind: (amount, unit)}. Only what differs from the preset is
    stored. New clocks use the edited limits; running clocks keep the ones they started with."""
    if not actor.has_role(Role.ADMIN):
        raise NotAllowed(N_("只有系统管理员可以修改设置。"))
    base = sla.limits_for(sla_preset(session))
    problems, stored = [], {}
    for kind in sla.ClockKind:
        amount, unit = limits.get(kind.value, (None, None))
        try:
            value = Decimal(str(amount).strip().replace("，", ".").replace(",", "."))
            if not value.is_finite() or value <= 0 or value != value.quantize(Decimal("0.01")):
                raise InvalidOperation
        except (InvalidOperation, ValueError):
            problems.append(InvalidInput(N_("请填写大于 0 的数字（最多两位小数）。"), field=f"amount_{kind.value}"))
            continue
        if unit not in {u.value for u in Unit}:
            problems.append(InvalidInput(N_("请选择单位。"), field=f"unit_{kind.value}"))
            continue
        hours = value * (24 if unit in (Unit.CALENDAR_DAYS, Unit.WORKING_DAYS) else 1)
        if hours > MAX_LIMIT_HOURS:
            problems.append(InvalidInput(N_("时限不能超过一年。"), field=f"amount_{kind.value}"))
            continue
        if (value, unit) != (base[kind].amount, base[kind].unit.value):
            stored[kind.value] = [f"{value.normalize():f}", unit]
    if problems:
        raise InvalidInputs(problems)
    _store(session, actor, SLA_OVERRIDES, stored, now)
    audit.record(session, audit.SETTING_CHANGED, actor_id=actor.id, target=f"setting:{SLA_OVERRIDES}", ip=ip,
                 now=now, after=stored)
    return stored


def _store(session, actor, key, value, now) -> None:
    put(session, key, value, by_id=actor.id, now=now)
