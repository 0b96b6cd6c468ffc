"""The online complaint form (SPEC §7): a customer registers a complaint themselves, channel web.

It goes through domain.intake like every other complaint (number, checks, clocks, the
acknowledgement). Its first responder (SPEC §5) is the administrator's online receiver; the
customer is the first event's actor and the uploader of its photos. The customer picks no
category or severity — the dispatcher classifies at `new`; safety words in the text make it
major at once (the manager is told), as the receiver's form would."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select

from domain import intake, safety
from domain.errors import InvalidInput, N_, NotAllowed, Problems
from domain.portal.config import online_receiver, portal_config
from domain.severity import DEFAULT_MAJOR_THRESHOLD
from domain.workflow.customer import Customer
from models.complaint import Category, Complaint
from models.org import OrgUnit

MAX_PHOTOS = 3


@dataclass
class OnlineComplaint:
    customer_name: str | None = None
    customer_phone: str | None = None
    customer_email: str | None = None
    content: str | None = None
    demand: str | None = None
    store_id: int | None = None
    order_no: str | None = None
    product_name: str | None = None
    privacy_consent: bool = False        # PIPL: the customer read the notice and agrees
    contact_consent: bool = False        # … and may be sent messages about it


class PagesOff(NotAllowed):
    """The administrator turned the public pages off (or no one can receive online complaints)."""


def stores(session) -> list[OrgUnit]:
    """The active stores a customer may pick."""
    return list(session.scalars(select(OrgUnit).where(OrgUnit.kind == "store", OrgUnit.active.is_(True))
                                .order_by(OrgUnit.name)))


def web_category(session) -> Category | None:
    """The category an online complaint starts with: 其他 at the top level if there is one, else the
    first active top-level category. The dispatcher corrects it."""
    tops = session.scalars(select(Category).where(Category.parent_id.is_(None), Category.active.is_(True))
                           .order_by(Category.sort, Category.id)).all()
    return next((c for c in tops if c.name.startswith("其他")), tops[0] if tops else None)


def receiving(session):
    """The online receiver, or PagesOff."""
    config = portal_config(session)
    receiver = online_receiver(session, config) if config.enabled else None
    if receiver is None:
        raise PagesOff(N_("网上投诉暂停受理，请拨打客服电话或到店反映。"))
    return receiver


def already(session, token: str | None) -> Complaint | None:
    """The complaint this form already registered (a double tap, a resubmission), or None."""
    if not token:
        return None
    return session.scalar(select(Complaint).where(Complaint.intake_token == token, Complaint.channel == "web"))


def register_online(session, form: OnlineComplaint, *, now: datetime, tz, token: str,
                    threshold: Decimal = DEFAULT_MAJOR_THRESHOLD) -> intake.IntakeResult:
    receiver = receiving(session)
    earlier = already(session, token)
    if earlier is not None:
        return intake.IntakeResult(earlier, False, list(earlier.severity_reasons or []))
    problems = Problems()
    if not form.privacy_consent:
        problems.append(InvalidInput(N_("请阅读并同意个人信息保护说明后再提交。"), field="privacy_consent"))
    store = None
    if form.store_id not in (None, "", 0):
        store = session.get(OrgUnit, form.store_id) if isinstance(form.store_id, int) and 0 < form.store_id < 2**31 \
            else None
        if store is None or store.kind != "store" or not store.active:
            problems.append(InvalidInput(N_("请从列表中选择门店。"), field="store_id"))
            store = None
    if form.demand and form.demand not in set(intake.Demand):
        problems.append(InvalidInput(N_("选项无效，请重新选择。"), field="demand"))
    category = web_category(session)
    if category is None:
        raise PagesOff(N_("网上投诉暂停受理，请拨打客服电话或到店反映。"))
    extra = {"order_no": form.order_no, "product_name": form.product_name}
    if store is not None:
        extra["complained_unit_id"] = store.id
    data = intake.IntakeData(
        customer_name=form.customer_name, content=form.content, category_id=category.id,
        customer_phone=form.customer_phone, customer_email=form.customer_email, type=intake.ComplaintType.COMPLAINT,
        channel=intake.Channel.WEB, demand=form.demand if form.demand in set(intake.Demand) else None,
        safety=bool(safety.safety_words_in(form.content or "")), extra=extra,
        contact_consent=bool(form.contact_consent))
    return intake.create(session, receiver, data, now=now, tz=tz, token=token, threshold=threshold,
                          customer=Customer(None), problems=problems)
