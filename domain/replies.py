"""Reply templates 答复模板 (SPEC §3): texts the administrator keeps per complaint category, or for
all categories, with placeholders; the handler picks one for the proposal's text to the customer
or for the answer, and edits it before sending. Templates are switched off, never deleted."""
from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import or_, select

from domain import audit
from domain.errors import InvalidInput, InvalidInputs, N_, NotAllowed
from domain.money import format_money
from domain.roles import Role
from domain.text import checked
from models.complaint import Category
from models.reply import ReplyTemplate

TITLE_MAX, BODY_MAX = 40, 2000
CHANGED = "reply_template_changed"       # the audit event's kind
# What a template may say in braces, and what it stands for (the handler sees the filled text).
PLACEHOLDERS = {"顾客姓名": N_("顾客姓名"), "投诉编号": N_("投诉编号"), "金额": N_("方案金额（元）"),
                "商品": N_("商品名称")}
_PLACEHOLDER = re.compile(r"\{([^{}\n]{1,20})\}")


def fill(text: str, values: dict) -> str:
    """`text` with each known {placeholder} replaced by its value. A placeholder we don't know, or
    one without a value (no amount yet), stays as typed, for the handler to see and fill in."""
    def one(match):
        value = values.get(match.group(1))
        return match.group(0) if value is None or value == "" else str(value)
    return _PLACEHOLDER.sub(one, text or "")


def values_for(complaint, amount=None) -> dict:
    """The placeholders' values for `complaint`; `amount` (the proposal being typed) before the
    one on record."""
    amount = amount if amount is not None else complaint.proposal_amount
    return {"顾客姓名": complaint.customer_name, "投诉编号": complaint.number,
            "金额": format_money(amount) if amount is not None else None, "商品": complaint.product_name}


def for_complaint(session, complaint) -> list[ReplyTemplate]:
    """The active templates offered on `complaint`: its category's, its parent category's, and
    those for all categories — the most specific first."""
    category = complaint.category
    ids = [i for i in (category.id, category.parent_id) if i is not None]
    rows = session.scalars(select(ReplyTemplate).where(
        ReplyTemplate.active.is_(True),
        or_(ReplyTemplate.category_id.is_(None), ReplyTemplate.category_id.in_(ids)))).all()
    rank = {category.id: 0, category.parent_id: 1, None: 2}
    return sorted(rows, key=lambda t: (rank.get(t.category_id, 2), t.title, t.id))


def offered(session, complaint, template_id) -> ReplyTemplate | None:
    """Template `template_id` when it is offered on `complaint`, else None."""
    return next((t for t in for_complaint(session, complaint) if t.id == template_id), None)


# --- the administrator's side --------------------------------------------------------------

def all_templates(session) -> list[ReplyTemplate]:
    """Every template, active first, by category (all categories first) and title."""
    rows = session.scalars(select(ReplyTemplate)).all()
    return sorted(rows, key=lambda t: (not t.active, t.category_id is not None, t.category_id or 0, t.title, t.id))


def _check_admin(actor):
    if not actor.has_role(Role.ADMIN):
        raise NotAllowed(N_("只有系统管理员可以修改答复模板。"))


def _checked(session, title, body, category_id):
    problems = []
    try:
        title = checked(title, "title", TITLE_MAX, required=True, multiline=False, message=N_("请填写模板名称。"),
                        too_long=N_("模板名称最多 %(max)d 个字。"))
    except InvalidInput as err:
        problems.append(err)
    try:
        body = checked(body, "body", BODY_MAX, required=True, message=N_("请填写模板内容。"),
                       too_long=N_("模板内容最多 %(max)d 个字。"))
    except InvalidInput as err:
        problems.append(err)
    if category_id is not None and session.get(Category, category_id) is None:
        problems.append(InvalidInput(N_("请从列表中选择类别。"), field="category_id"))
    if problems:
        raise InvalidInputs(problems)
    return title, body


def add(session, actor, *, title, body, category_id: int | None, now: datetime) -> ReplyTemplate:
    _check_admin(actor)
    title, body = _checked(session, title, body, category_id)
    row = ReplyTemplate(title=title, body=body, category_id=category_id, active=True, updated_at=now,
                        updated_by_id=actor.id)
    session.add(row)
    session.flush()
    audit.record(session, CHANGED, now=now, actor_id=actor.id, target=f"reply_template:{row.id}", action="add")
    return row


def update(session, actor, row: ReplyTemplate, *, title, body, category_id: int | None, now: datetime) -> None:
    _check_admin(actor)
    title, body = _checked(session, title, body, category_id)
    if (title, body, category_id) != (row.title, row.body, row.category_id):
        row.title, row.body, row.category_id = title, body, category_id
        row.updated_at, row.updated_by_id = now, actor.id
        audit.record(session, CHANGED, now=now, actor_id=actor.id, target=f"reply_template:{row.id}", action="edit")


def set_active(session, actor, row: ReplyTemplate, active: bool, *, now: datetime) -> None:
    _check_admin(actor)
    if row.active != active:
        row.active, row.updated_at, row.updated_by_id = active, now, actor.id
        audit.record(session, CHANGED, now=now, actor_id=actor.id, target=f"reply_template:{row.id}",
                     action="activate" if active else "deactivate")


# A start for a new company (the demo data may load them; the administrator edits them).
DEFAULTS = (
    (None, "致歉并说明处理结果",
     "{顾客姓名}您好，关于您反映的问题（投诉编号 {投诉编号}），我们已查明原因并深表歉意。"
     "我们将为您办理{金额}元的退款/补偿，预计 3 个工作日内到账。感谢您的监督，如有疑问请随时与我们联系。"),
    (None, "解释说明（非我司责任）",
     "{顾客姓名}您好，关于投诉编号 {投诉编号} 的问题，经核实，情况如下：……。"
     "感谢您的理解，如需进一步帮助，请随时与我们联系。"),
    ("产品质量", "产品质量：退换货",
     "{顾客姓名}您好，您购买的{商品}存在质量问题，给您带来不便，非常抱歉。我们将为您免费退换，"
     "并已要求生产部门整改。投诉编号：{投诉编号}。"),
)


def seed_defaults(session, actor, *, now: datetime) -> int:
    """Load DEFAULTS when there are no templates yet (categories by name; a missing one: all)."""
    if session.scalar(select(ReplyTemplate.id).limit(1)) is not None:
        return 0
    for category, title, body in DEFAULTS:
        category_id = session.scalar(select(Category.id).where(Category.name == category)) if category else None
        session.add(ReplyTemplate(title=title, body=body, category_id=category_id, active=True, updated_at=now,
                                  updated_by_id=actor.id if actor else None))
    session.flush()
    return len(DEFAULTS)
