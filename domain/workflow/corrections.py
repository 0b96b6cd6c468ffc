"""Corrections after intake (SPEC §2): quality (the dispatchers) and the first responder correct
the customer, product or category fields of a complaint, with a reason. Each field is checked as
intake checks it; only the fields that change are written, and the event keeps each one's old
and new value — nothing is overwritten silently."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from domain import customer
from domain.errors import InvalidInput, InvalidInputs, N_, Problems
from domain.money import parse_amount
from domain.roles import Role
from domain.text import checked
from domain.workflow.core import ALL_TYPES, DISPATCHERS, Action, Fields, Outcome, S, dispatcher, register

# What may be corrected, in the form's order, with its label on the timeline.
CUSTOMER = {"customer_name": N_("姓名"), "customer_phone": N_("电话"), "customer_email": N_("电子邮箱"),
            "customer_company": N_("单位"), "customer_address": N_("联系地址"), "customer_code": N_("客户编号"),
            "customer_class": N_("客户类别"), "customer_foreign": N_("境外顾客")}
PRODUCT = {"product_name": N_("商品"), "model_no": N_("料号/型号"), "batch_no": N_("批号"), "quantity": N_("数量"),
           "defective_quantity": N_("不良品数量"), "order_no": N_("订单编号"), "contract_no": N_("合同号"),
           "purchase_date": N_("购买日期"), "ship_date": N_("发货日期"), "amount_involved": N_("涉及金额")}
LABELS = {**CUSTOMER, **PRODUCT, "category": N_("类别"), "severity": N_("严重程度")}
# Shown masked on the timeline to whoever sees the customer's contact masked (domain.privacy).
PERSONAL = {"customer_phone", "customer_email", "customer_address"}


@dataclass(frozen=True)
class CorrectionFields(Fields):
    """None: not given (kept); "": cleared (where the field may be empty)."""
    customer_name: str | None = None
    customer_phone: str | None = None
    customer_email: str | None = None
    customer_company: str | None = None
    customer_address: str | None = None
    customer_code: str | None = None
    customer_class: str | None = None
    customer_foreign: bool | None = None
    product_name: str | None = None
    model_no: str | None = None
    batch_no: str | None = None
    quantity: str | None = None
    defective_quantity: str | None = None
    order_no: str | None = None
    contract_no: str | None = None
    purchase_date: str | None = None
    ship_date: str | None = None
    amount_involved: str | None = None
    category_id: int | None = None
    reason: str | None = None


def _shown(value):
    """A value as the event keeps it (JSON): dates and amounts as text."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return f"{value:f}"
    return value


def leaf_categories(session) -> list[tuple[int, str]]:
    """The categories intake offers: active, without active sub-categories ("top / sub")."""
    from sqlalchemy import select

    from models.complaint import Category
    rows = session.execute(select(Category.id, Category.parent_id, Category.name).where(Category.active.is_(True))
                           .order_by(Category.sort, Category.id)).all()
    parents = {r.parent_id for r in rows if r.parent_id is not None}
    out = []
    for top in (r for r in rows if r.parent_id is None):
        if top.id not in parents:
            out.append((top.id, top.name))
        out += [(r.id, f"{top.name} / {r.name}") for r in rows if r.parent_id == top.id]
    return out


@register
class Correct(Action):
    name, label, who = "correct", N_("更正登记信息"), N_("品管/总经理/首问负责人")
    sources, targets, roles, types = frozenset(S), [], DISPATCHERS | {Role.RECEIVER}, ALL_TYPES
    fields, on_the_road, button = CorrectionFields, False, "side"

    def guard(self, session, actor, c):
        if not (dispatcher(actor) or c.first_responder_id == actor.id):
            return N_("只有品管、总经理或首问负责人可以更正登记信息。")
        return None

    def apply(self, session, actor, c, f, now):
        problems = Problems()
        check = problems.check

        given = {k: getattr(f, k) for k in (*CUSTOMER, *PRODUCT) if getattr(f, k) is not None}
        new = {}
        if "customer_name" in given:
            new["customer_name"] = check(customer.customer_name, given.pop("customer_name"))
        if "customer_phone" in given or "customer_email" in given:
            new["customer_phone"], new["customer_email"] = customer.contact(
                given.pop("customer_phone", c.customer_phone), given.pop("customer_email", c.customer_email), problems)
        if "amount_involved" in given:
            new["amount_involved"] = check(parse_amount, given.pop("amount_involved"), "amount_involved")
        # The "more details" fields, by intake's own rules; one emptied is cleared.
        new.update({k: None for k, v in given.items() if v == ""})
        new.update(customer.details(session, actor, {k: v for k, v in given.items() if v != ""}, problems))
        category = None
        if f.category_id is not None and f.category_id != c.category_id:
            if f.category_id not in dict(leaf_categories(session)):
                problems.append(InvalidInput(N_("请选择投诉类别。"), field="category_id"))
            else:
                from models.complaint import Category
                category = session.get(Category, f.category_id)
        if problems:
            raise InvalidInputs(problems)
        changes = {k: [_shown(getattr(c, k)), _shown(v)] for k, v in new.items() if getattr(c, k) != v}
        if category is not None:
            changes["category"] = [c.category.name, category.name]
        if not changes:
            raise InvalidInput(N_("没有修改任何内容。"))
        reason = checked(f.reason, "reason", 500, required=True, message=N_("请写明更正的原因。"))
        for k in changes.keys() & new.keys():
            setattr(c, k, new[k])
        if category is not None:
            c.category_id = category.id
        if "amount_involved" in changes:
            changes.update(_severity(session, actor, c, now))
        return Outcome(None, changes, reason)

    def form_context(self, session, actor, c):
        return {"categories": leaf_categories(session), "customer_classes": list(customer.CUSTOMER_CLASSES.items())}

    def initial(self, session, c):
        values = {k: _shown(getattr(c, k)) for k in (*CUSTOMER, *PRODUCT)}
        values["customer_foreign"] = "yes" if c.customer_foreign else "no"
        values["category_id"] = c.category_id
        return {k: "" if v is None else str(v) for k, v in values.items()}


def _severity(session, actor, c, now) -> dict:
    """A corrected amount involved may force major (or no longer be a reason for it): the
    reasons are worked out again as at intake; a complaint newly forced to major tells the
    managers, as a major one does when registered. Never lowered here (the dispatcher may)."""
    from domain.notify import notify, users_with
    from domain.settings import major_threshold
    from domain.severity import Flags, Severity, major_reasons
    reasons = major_reasons(Flags(c.safety_flag, c.media_flag, c.sensitive_flag, c.reputation_flag,
                                  c.amount_involved, c.amount_claimed), major_threshold(session))
    if reasons == (c.severity_reasons or []):
        return {}
    c.severity_reasons = reasons or None
    if not reasons or c.severity == Severity.MAJOR:
        return {}
    old, c.severity = c.severity, Severity.MAJOR.value
    notify(session, users_with(session, Role.MANAGER), c, "major_registered", now, actor)
    return {"severity": [old, c.severity]}


def correction_rows(changes: dict | None, masked: bool) -> list[tuple[str, object, object, bool]]:
    """A correction's changes for the timeline: (label msgid, old, new, whether old and new are
    msgids to translate), personal data masked when the viewer sees the customer's contact
    masked; an empty value is None."""
    from domain import privacy
    from domain.severity import SEVERITY_LABELS
    mask = {"customer_phone": privacy.mask_phone, "customer_email": privacy.mask_email,
            "customer_address": privacy.mask_address}
    words = {"severity": SEVERITY_LABELS, "customer_class": customer.CUSTOMER_CLASSES,
             "customer_foreign": {True: N_("是"), False: N_("否")}}
    rows = []
    for key, label in LABELS.items():
        if not changes or key not in changes:
            continue
        old, new = (v if v != "" else None for v in changes[key])
        if masked and key in PERSONAL:
            old, new = mask[key](old), mask[key](new)
        if key in words:
            rows.append((label, words[key].get(old, old), words[key].get(new, new), True))
        else:
            rows.append((label, old, new, False))
    return rows
