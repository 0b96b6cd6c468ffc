"""Monthly order volumes per branch and store (SPEC §8): the denominator of the complaint rate
per 10,000 orders in the monthly report. The administrator enters them month by month (a grid of
the active branches and stores) or imports a CSV file (domain.orders_import).

What a figure means: the orders taken by that unit itself in that calendar month (company time).
A branch's figure is its own (its office, group or online orders), not its stores' — the branch
as a whole is the branch plus its stores, which `total_orders` adds up. No figure means unknown
(the rate is not computed for it); 0 is a known zero (a store closed that month).

For the report:
    orders_for(session, "2026-11", unit_ids=None) -> {unit_id: orders}   # the units with a figure
    total_orders(session, "2026-11", unit_ids=None) -> int | None        # None: no figure at all
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import delete, func, select

from domain import audit
from domain.errors import InvalidInput, InvalidInputs, N_
from models.org import OrgUnit
from models.report import OrderVolume

MAX_ORDERS = 10**9
EARLIEST = "2000-01"
KINDS = ("branch", "store")
CHANGED = "order_volume_changed"      # the audit kind (label in domain.audit.KIND_LABELS)

_MONTH = re.compile(r"(\d{4})-(\d{2})")


def check_month(month: str) -> str:
    """`month` if it is a "YYYY-MM" string, else ValueError (for callers that pass their own)."""
    m = _MONTH.fullmatch(month or "")
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise ValueError(f"not a month: {month!r}")
    return month


def orders_for(session, month: str, unit_ids=None) -> dict[int, int]:
    """{unit_id: orders} of `month` ("YYYY-MM") for the units that have a figure — among
    `unit_ids` when given (an empty collection: {}), else every unit, active or not."""
    query = select(OrderVolume.unit_id, OrderVolume.orders).where(OrderVolume.month == check_month(month))
    if unit_ids is not None:
        unit_ids = list(unit_ids)
        if not unit_ids:
            return {}
        query = query.where(OrderVolume.unit_id.in_(unit_ids))
    return dict(session.execute(query).all())


def total_orders(session, month: str, unit_ids=None) -> int | None:
    """The orders of `month` added up over `unit_ids` (every unit when None); None when none of
    them has a figure. Units without a figure count as unknown, not as 0: to compute a rate
    over several units, take `orders_for` and count only the complaints of the units it names."""
    query = select(func.count(), func.sum(OrderVolume.orders)).where(OrderVolume.month == check_month(month))
    if unit_ids is not None:
        unit_ids = list(unit_ids)
        if not unit_ids:
            return None
        query = query.where(OrderVolume.unit_id.in_(unit_ids))
    n, total = session.execute(query).one()
    return int(total) if n else None


# --- months -----------------------------------------------------------------------------------

def month_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def shift(month: str, by: int) -> str:
    year, mon = int(month[:4]), int(month[5:7])
    index = year * 12 + mon - 1 + by
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def recent_months(today: date, count: int = 25) -> list[str]:
    """This month and the `count` - 1 before it, newest first (the month picker)."""
    this = month_of(today)
    return [shift(this, -i) for i in range(count)]


def parse_month(value, today: date) -> str:
    """A typed month as "YYYY-MM": 2026-11, 2026/11, 2026.11, 2026年11月, 202611, or a day of that
    month as Excel writes dates (2026/11/1, 2026-11-01, 2026年11月1日). Not before 2000, not
    after this month. InvalidInput otherwise."""
    text = unicodedata.normalize("NFKC", str(value or "")).strip()
    if not text:
        raise InvalidInput(N_("请填写月份，例如 2026-11。"), field="month")
    loose = text.replace("年", "-").replace("月", "-").replace("日", "").strip().rstrip("-")
    parts = re.split(r"\s*[-/.]\s*", loose) if not re.fullmatch(r"\d{6}", loose) else [loose[:4], loose[4:]]
    month = None
    if len(parts) in (2, 3) and all(re.fullmatch(r"\d+", p) for p in parts) and len(parts[0]) == 4 \
            and all(len(p) <= 2 for p in parts[1:]):
        year, mon = int(parts[0]), int(parts[1])
        try:
            date(year, mon, int(parts[2]) if len(parts) == 3 else 1)
            month = f"{year:04d}-{mon:02d}"
        except ValueError:
            month = None
    if month is None:
        raise InvalidInput(N_("“%(value)s”不是月份，请写成 2026-11 这样。"), field="month", value=shown(text))
    if month < EARLIEST:
        raise InvalidInput(N_("月份“%(value)s”太早了。"), field="month", value=shown(text))
    if month > month_of(today):
        raise InvalidInput(N_("%(value)s 还没到，不能填订单量。"), field="month", value=month)
    return month


# --- numbers ----------------------------------------------------------------------------------

_WHOLE = re.compile(r"\d+|\d{1,3}(?:,\d{3})+")
_ZERO_FRACTION = re.compile(r"\.0+")


def shown(value, limit: int = 30) -> str:
    """A cell as it may be quoted back in a message: visible characters, at most `limit`."""
    from domain.text import clean
    text = clean(str(value or ""))
    return text if len(text) <= limit else text[:limit] + "…"


def parse_orders(value, field: str = "orders") -> int | None:
    """A typed number of orders: a whole number 0 … 1,000,000,000 (full-width digits and 1,234
    grouping allowed; 1234.00 too, as spreadsheets write it); blank → None (unknown).
    Anything else — negative, fractions, formulas, 1E+09 — is refused with InvalidInput."""
    text = unicodedata.normalize("NFKC", str(value if value is not None else "")).strip().replace(" ", "")
    if not text:
        return None
    whole = text
    if "." in text:
        whole, fraction = text.split(".", 1)
        if not _ZERO_FRACTION.fullmatch("." + fraction):
            raise InvalidInput(N_("订单量须是整数：“%(value)s”。"), field=field, value=shown(value))
    if not _WHOLE.fullmatch(whole):
        if whole.startswith("-") and _WHOLE.fullmatch(whole[1:]):
            raise InvalidInput(N_("订单量不能是负数：“%(value)s”。"), field=field, value=shown(value))
        raise InvalidInput(N_("“%(value)s”不是订单数，请填 0 或正整数。"), field=field, value=shown(value))
    digits = whole.replace(",", "").lstrip("0") or "0"
    if len(digits) > 10 or int(digits) > MAX_ORDERS:
        raise InvalidInput(N_("订单量“%(value)s”太大：一个月最多 1,000,000,000。"), field=field, value=shown(value))
    return int(digits)


# --- the units --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Line:
    """A branch or store as the grid and the import show it."""
    id: int
    name: str
    kind: str
    path: str          # 上海分公司/上海徐汇店 (below the company)
    active: bool
    depth: int         # 0 branch, 1 store


def all_units(session) -> list[Line]:
    """Every branch and store (inactive ones too), each branch followed by its stores."""
    units = session.execute(select(OrgUnit.id, OrgUnit.name, OrgUnit.kind, OrgUnit.parent_id, OrgUnit.active)
                            .order_by(OrgUnit.id)).all()
    by_id = {u.id: u for u in units}

    def path(u) -> list[str]:
        names = []
        while u is not None and u.parent_id is not None:   # the company (the root) is left out
            names.append(u.name)
            u = by_id.get(u.parent_id)
        return names[::-1]
    branches = [u for u in units if u.kind == "branch"]
    lines = []
    for b in branches:
        lines.append(Line(b.id, b.name, b.kind, "/".join(path(b)), b.active, 0))
        for s in units:
            if s.kind == "store" and s.parent_id == b.id:
                lines.append(Line(s.id, s.name, s.kind, "/".join(path(s)), s.active and b.active, 1))
    return lines


def grid(session, month: str) -> list[tuple[Line, int | None]]:
    """The active branches and stores with their figure for `month` (None: none entered)."""
    have = orders_for(session, month)
    return [(line, have.get(line.id)) for line in all_units(session) if line.active]


# --- changing ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Change:
    unit_id: int
    path: str
    month: str
    old: int | None
    new: int | None

    @property
    def kind(self) -> str:
        if self.old == self.new:
            return "same"
        return "new" if self.old is None else ("cleared" if self.new is None else "changed")


CHANGE_LABELS = {"new": N_("新增"), "changed": N_("修改"), "cleared": N_("清除"), "same": N_("不变")}


def apply(session, actor, changes, *, now: datetime, via: str, ip: str | None = None) -> int:
    """Write the changes (those that change something) and one audit event each; returns how
    many. The caller commits (all or nothing)."""
    changes = [c for c in changes if c.kind != "same"]
    months = sorted({c.month for c in changes})
    stored = {(r.unit_id, r.month): r for r in session.scalars(
        select(OrderVolume).where(OrderVolume.month.in_(months)))} if months else {}
    done = 0
    for change in changes:
        row = stored.get((change.unit_id, change.month))
        if change.new is None:
            session.execute(delete(OrderVolume).where(OrderVolume.unit_id == change.unit_id,
                                                      OrderVolume.month == change.month))
        elif row is None:
            session.add(OrderVolume(unit_id=change.unit_id, month=change.month, orders=change.new,
                                    updated_at=now, updated_by_id=actor.id if actor else None))
        else:
            row.orders, row.updated_at, row.updated_by_id = change.new, now, actor.id if actor else None
        audit.record(session, CHANGED, now=now, actor_id=actor.id if actor else None, ip=ip,
                     target=f"orders:{change.unit_id}:{change.month}", unit=change.path, month=change.month,
                     old=change.old, new=change.new, via=via)
        done += 1
    session.flush()
    return done


STALE = N_("在您填写期间，有人修改了这个月的订单量（%(units)s）。下面是现在的数字，请核对后再保存。")


def save_month(session, actor, month: str, typed: dict, loaded: dict, *, now: datetime,
               ip: str | None = None) -> list[Change]:
    """The grid of `month` as posted: `typed` {unit_id: text} and `loaded` {unit_id: text as the
    form showed it}. Only the figures the administrator changed are written, and only if nobody
    changed them meanwhile. Every bad number is reported at once (InvalidInputs, field u<id>);
    nothing is written then. Returns the changes made."""
    check_month(month)
    lines = {line.id: line for line, _v in grid(session, month)}
    current = orders_for(session, month, list(lines))
    problems, changes, stale = [], [], []
    for unit_id, line in lines.items():
        field = f"u{unit_id}"
        try:
            new = parse_orders(typed.get(unit_id, ""), field)
        except InvalidInput as err:
            problems.append(err)
            continue
        try:
            before = parse_orders(loaded.get(unit_id, ""), field)
        except InvalidInput:
            before = current.get(unit_id)
        if new == before:
            continue                       # not touched: whatever is stored stays
        if current.get(unit_id) != before:
            stale.append(line.name)
            continue
        changes.append(Change(unit_id, line.path, month, before, new))
    if problems:
        raise InvalidInputs(problems)
    if stale:
        raise InvalidInput(STALE, units="、".join(stale[:5]) + ("…" if len(stale) > 5 else ""))
    apply(session, actor, changes, now=now, via="form", ip=ip)
    return changes
