"""Company settings that an administrator may change; defaults when never set."""
from __future__ import annotations

from decimal import Decimal, InvalidOperation

from domain import audit
from domain.errors import InvalidInput, N_, NotAllowed
from domain.roles import Role
from domain.severity import DEFAULT_MAJOR_THRESHOLD
from models import utcnow
from models.setting import Setting

MAJOR_THRESHOLD = "major_threshold"


def _stored_amount(session, key, default: Decimal) -> Decimal:
    row = session.get(Setting, key)
    return Decimal(row.value) if row is not None else default


def major_threshold(session) -> Decimal:
    """The amount (CNY) at or above which a complaint is forced to major (SPEC §2)."""
    return _stored_amount(session, MAJOR_THRESHOLD, DEFAULT_MAJOR_THRESHOLD)


def set_major_threshold(session, actor, value, ip: str | None = None) -> Decimal:
    return _set_amount(session, actor, MAJOR_THRESHOLD, value, major_threshold(session), ip)


def _set_amount(session, actor, key, value, before, ip) -> Decimal:
    if not actor.has_role(Role.ADMIN):
        raise NotAllowed(N_("只有系统管理员可以修改设置。"))
    try:
        amount = Decimal(str(value).replace(",", "").strip())
    except InvalidOperation:
        raise InvalidInput(N_("请填写金额数字，例如 50000。"), field=key) from None
    if not amount.is_finite() or amount < 1 or amount >= Decimal("1000000000"):
        raise InvalidInput(N_("金额须在 1 元到 10 亿元之间。"), field=key)
    amount = amount.quantize(Decimal("0.01"))
    if amount >= Decimal("1000000000"):
        raise InvalidInput(N_("金额须在 1 元到 10 亿元之间。"), field=key)
    if amount == before:
        return amount
    row = session.get(Setting, key)
    if row is None:
        row = Setting(key=key)
        session.add(row)
    row.value, row.updated_at, row.updated_by_id = str(amount), utcnow(), actor.id
    audit.record(session, audit.SETTING_CHANGED, actor_id=actor.id, target=f"setting:{key}", ip=ip,
                 before=str(before), after=str(amount))
    return amount


HEAD_APPROVAL_LIMIT = "head_approval_limit"


def head_approval_limit(session) -> Decimal:
    """Up to this amount a department head approves a minor/general complaint's resolution (§3)."""
    from domain.workflow import DEFAULT_HEAD_APPROVAL_LIMIT
    return _stored_amount(session, HEAD_APPROVAL_LIMIT, DEFAULT_HEAD_APPROVAL_LIMIT)


def set_head_approval_limit(session, actor, value, ip: str | None = None) -> Decimal:
    return _set_amount(session, actor, HEAD_APPROVAL_LIMIT, value, head_approval_limit(session), ip)


SLA_PRESET = "sla_preset"


def company_tz():
    """The company's time zone: KESU_COMPANY_TZ (the same variable the app's config reads)."""
    import os
    from zoneinfo import ZoneInfo
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


def set_digest_times(session, actor, head: str, manager: str, ip: str | None = None) -> dict[str, str]:
    import re
    if not actor.has_role(Role.ADMIN):
        raise NotAllowed(N_("只有系统管理员可以修改设置。"))
    value = {}
    for name, raw in (("head", head), ("manager", manager)):
        raw = (raw or "").strip().replace("：", ":")
        match = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)", raw)
        if not match:
            raise InvalidInput(N_("请按 时:分 填写，例如 08:30。"), field=f"digest_{name}")
        value[name] = f"{int(match.group(1)):02d}:{match.group(2)}"
    row = session.get(Setting, DIGEST_TIMES) or Setting(key=DIGEST_TIMES)
    row.value, row.updated_at, row.updated_by_id = value, utcnow(), actor.id
    session.add(row)
    audit.record(session, audit.SETTING_CHANGED, actor_id=actor.id, target=f"setting:{DIGEST_TIMES}", ip=ip,
                 after=f"{value['head']}/{value['manager']}")
    return value
