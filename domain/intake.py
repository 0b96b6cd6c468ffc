"""Registering a complaint (SPEC §2, §3.2): validation, severity, number, first event.

`register()` is the one path for the intake form, the API, the CLI, demo data and tests. It
runs inside the caller's transaction; the caller commits. A repeated intake token (double tap,
resubmission after a dropped connection) returns the complaint already made with it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlalchemy import and_, false, or_, select
from sqlalchemy.exc import IntegrityError

from domain import attachments, clocks, numbering
from domain.errors import InvalidInput, InvalidInputs, N_, NotAllowed, Problems
from domain.roles import Role
from domain.severity import DEFAULT_MAJOR_THRESHOLD, Flags, Severity, decide
from domain.money import parse_amount
from domain.notify import notify, users_with
from domain.text import checked
from domain.workflow import bump_stage_count
from domain.customer import (CUSTOMER_CLASSES, EMAIL_RE, EXTRA_BOOL, EXTRA_DATE, EXTRA_INT, EXTRA_TEXT,  # noqa: F401
                             PHONE_RE, contact, customer_name, details, normalise_phone)
from models.complaint import Category, Complaint, ComplaintEvent


class ComplaintType(StrEnum):
    COMPLAINT = "complaint"
    SUGGESTION = "suggestion"
    INQUIRY = "inquiry"


class Channel(StrEnum):
    PHONE = "phone"
    WALK_IN = "walk_in"
    EMAIL = "email"
    WEB = "web"
    LETTER = "letter"
    COMMENT_BOOK = "comment_book"
    SOCIAL = "social"
    HOTLINE = "hotline"
    OTHER = "other"


class Demand(StrEnum):
    RETURN = "return"
    EXCHANGE = "exchange"
    REFUND = "refund"
    COMPENSATION = "compensation"
    REPAIR = "repair"
    APOLOGY = "apology"
    EXPLANATION = "explanation"
    OTHER = "other"


class Urgency(StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


TYPE_LABELS = {ComplaintType.COMPLAINT: N_("投诉"), ComplaintType.SUGGESTION: N_("建议"),
               ComplaintType.INQUIRY: N_("咨询")}
CHANNEL_LABELS = {Channel.WALK_IN: N_("到店"), Channel.PHONE: N_("电话"), Channel.HOTLINE: N_("热线转办"),
                  Channel.EMAIL: N_("邮件"), Channel.WEB: N_("网站/在线"), Channel.SOCIAL: N_("网络/社交媒体"),
                  Channel.LETTER: N_("信函"), Channel.COMMENT_BOOK: N_("意见簿"), Channel.OTHER: N_("其他")}
DEMAND_LABELS = {Demand.REFUND: N_("退款"), Demand.EXCHANGE: N_("换货"), Demand.RETURN: N_("退货"),
                 Demand.COMPENSATION: N_("赔偿"), Demand.APOLOGY: N_("道歉"), Demand.EXPLANATION: N_("解释说明"),
                 Demand.REPAIR: N_("维修"), Demand.OTHER: N_("其他")}
EVENT_LABELS = {"registered": N_("登记"), "settled_on_the_spot": N_("当场解决")}   # the first event
# Distinct from the severity words (轻微/一般/严重/重大): seed 000 grades urgency 高/中/低.
URGENCY_LABELS = {Urgency.HIGH: N_("紧急"), Urgency.MEDIUM: N_("普通"), Urgency.LOW: N_("不急")}

CONTENT_MAX = 5000


@dataclass
class IntakeData:
    customer_name: str
    content: str
    category_id: int
    severity: str = Severity.GENERAL
    customer_phone: str | None = None
    customer_email: str | None = None
    type: str = ComplaintType.COMPLAINT
    channel: str = Channel.WALK_IN
    demand: str | None = None
    demand_text: str | None = None
    amount_involved: Decimal | str | None = None
    amount_claimed: Decimal | str | None = None
    safety: bool = False
    media: bool = False
    sensitive: bool = False
    reputation: bool = False
    urgency: str = Urgency.MEDIUM
    spot_action: str | None = None       # settled on the spot (§3.2): what was done
    spot_accepted: bool = False          # … and the customer accepted it
    extra: dict = field(default_factory=dict)  # the "more details" fields, model column names
    contact_consent: bool = False        # the customer agreed to be sent messages (SPEC §7)


@dataclass
class IntakeResult:
    complaint: Complaint
    created: bool          # False: the token had been used; this is the earlier complaint
    major_reasons: list[str]


class FormUsed(NotAllowed):
    """Someone else registered a complaint with this form (a shared tablet): start a fresh one."""


def already_registered(session, actor, token: str | None) -> Complaint | None:
    """The complaint `actor` already registered with this form's token — a double tap, or a
    resubmission after a dropped connection: show that one, register nothing. None for a fresh
    form. Someone else's used form raises FormUsed. Checked before anything is stored (the
    intake view: before the photos) and again by `register` (also when a race is lost)."""
    if not token:
        return None
    earlier = session.scalar(select(Complaint).where(Complaint.intake_token == token))
    if earlier is not None and earlier.first_responder_id != actor.id:
        raise FormUsed(N_("这个表单已经被别人提交过了，请刷新后重新填写。"))
    return earlier


def register(session, actor, data: IntakeData, *, now: datetime, tz: ZoneInfo, token: str | None = None,
             threshold: Decimal = DEFAULT_MAJOR_THRESHOLD) -> IntakeResult:
    if not actor.has_role(Role.RECEIVER):
        raise NotAllowed(N_("只有受理人可以登记投诉。"))
    earlier = already_registered(session, actor, token)
    if earlier is not None:
        return IntakeResult(earlier, False, list(earlier.severity_reasons or []))
    return create(session, actor, data, now=now, tz=tz, token=token, threshold=threshold)


def create(session, actor, data: IntakeData, *, now, tz, token, threshold, customer=None,
            problems: Problems | None = None) -> IntakeResult:
    """Check `data` and store the complaint with `actor` as its first responder. `customer`: the
    complainant registered it themselves (the online form, domain.portal.online): the first event
    is theirs and their files are claimed. `problems`: the caller's own checks, shown with these."""
    problems = problems if problems is not None else Problems()
    check = problems.check

    name = check(customer_name, data.customer_name)
    phone, email = contact(data.customer_phone, data.customer_email, problems)
    content = check(checked, data.content, "content", CONTENT_MAX, required=True, message=N_("请写下发生了什么。"))
    kind = check(_choice, ComplaintType, data.type, "type")
    channel = check(_choice, Channel, data.channel, "channel")
    urgency = check(_choice, Urgency, data.urgency or Urgency.MEDIUM, "urgency")
    chosen = check(_choice, Severity, data.severity, "severity", N_("请选择严重程度。"))
    demand = check(_choice, Demand, data.demand, "demand") if data.demand else None
    category = session.get(Category, data.category_id) if _small_int(data.category_id) else None
    if category is None or not category.active:
        problems.append(InvalidInput(N_("请选择投诉类别。"), field="category_id"))
    involved = check(parse_amount, data.amount_involved, "amount_involved")
    claimed = check(parse_amount, data.amount_claimed, "amount_claimed")
    extra = check(details, session, actor, data.extra, problems) or {}
    if problems:
        raise InvalidInputs(problems)
    severity, reasons = decide(chosen, Flags(data.safety, data.media, data.sensitive, data.reputation,
                                             involved, claimed), threshold)

    spot_action = checked(data.spot_action, "spot_action", 2000)
    on_the_spot = bool(spot_action)
    if on_the_spot:
        # §3.2: only a minor complaint, with the customer's acceptance, closes at the counter.
        if severity is not Severity.MINOR:
            raise InvalidInput(N_("只有轻微投诉可以当场解决；这条投诉不是轻微投诉（涉及安全、金额或媒体的会自动定为重大），请提交处理。"),
                               field="spot_action")
        if not data.spot_accepted:
            raise InvalidInput(N_("当场解决须顾客认可；顾客不认可请不要填写当场处理。"), field="spot_accepted")

    complaint = Complaint(
        number=numbering.allocate(session, now, tz), intake_token=token, type=kind.value,
        channel=channel.value, stage="follow_up" if on_the_spot else "new", version=1,
        customer_name=name, customer_phone=phone, customer_email=email, content=content,
        demand=demand.value if demand else None,
        demand_text=checked(data.demand_text, "demand_text", 1000),
        amount_involved=involved, amount_claimed=claimed, category=category, severity=severity.value,
        severity_reasons=reasons or None, safety_flag=data.safety, media_flag=data.media,
        sensitive_flag=data.sensitive, reputation_flag=data.reputation, urgency=urgency.value,
        receiving_unit_id=actor.org_unit_id, first_responder_id=actor.id,
        spot_action=spot_action, spot_accepted=True if on_the_spot else None,
        created_at=now, updated_at=now, **extra)
    session.add(complaint)
    complaint.contact_consent = bool(data.contact_consent)
    first = ComplaintEvent(complaint=complaint, at=now, actor_id=None if customer else actor.id, kind="registered",
                           to_stage="new", changes={"severity": severity.value, "reasons": reasons,
                                                    **({"by": "customer"} if customer else {})})
    session.add(first)
    if on_the_spot:
        session.add(ComplaintEvent(complaint=complaint, at=now, actor_id=actor.id, kind="settled_on_the_spot",
                                   from_stage="new", to_stage="follow_up", comment=spot_action))
    try:
        session.flush()
        files = attachments.claim(session, token, customer or actor, complaint) if token else 0
    except IntegrityError:
        # The same token won a race in another transaction: return that complaint instead.
        session.rollback()
        earlier = already_registered(session, actor, token)
        if earlier is None:
            raise
        return IntakeResult(earlier, False, list(earlier.severity_reasons or []))
    if files:
        first.changes = {**first.changes, "attachments": files}
    first.version = 1
    bump_stage_count(session, None, complaint.stage)
    clocks.on_event(session, complaint, "settled_on_the_spot" if on_the_spot else "registered", now)
    if severity is Severity.MAJOR:
        # §2: major complaints notify the manager at once.
        notify(session, users_with(session, Role.MANAGER), complaint, "major_registered", now, actor)
    if complaint.repeat_of_id:
        # §3.1: a repeat complaint (二次投诉) tells everybody who handled the first one.
        notify(session, handled(session, session.get(Complaint, complaint.repeat_of_id)), complaint, "repeat", now,
               actor)
    if customer:
        notify(session, [actor.id], complaint, "web_registered", now)   # their new first-responder duty
    from domain.portal import outbound
    outbound.queue(session, complaint, "ack", now)
    if on_the_spot:
        outbound.queue(session, complaint, "survey", now)
    return IntakeResult(complaint, True, reasons)


def handled(session, complaint) -> list[int]:
    """Everybody (still active) who handled `complaint`: its first responder, its investigator,
    whoever acted on its timeline, and the heads of its responsible department."""
    from models.user import User
    people = {complaint.first_responder_id, complaint.investigator_id} | {e.actor_id for e in complaint.events}
    heads = and_(User.org_unit_id == complaint.responsible_unit_id, User.is_head.is_(True)) \
        if complaint.responsible_unit_id is not None else false()
    return list(session.scalars(select(User.id).where(or_(User.id.in_([p for p in people if p]), heads),
                                                      User.active.is_(True)).order_by(User.id)))


def _small_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**31


def _choice(enum, value, field_name, message=None):
    try:
        return enum(value)
    except ValueError:
        raise InvalidInput(message or N_("选项无效，请重新选择。"), field=field_name) from None
