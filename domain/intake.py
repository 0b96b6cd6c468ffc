"""Registering a complaint (SPEC §2, §3.2): validation, severity, number, first event.

`register()` is the one path for the intake form, the API, the CLI, demo data and tests. It
runs inside the caller's transaction; the caller commits. A repeated intake token (double tap,
resubmission after a dropped connection) returns the complaint already made with it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from domain import attachments, clocks, numbering
from domain.errors import InvalidInput, InvalidInputs, N_, NotAllowed
from domain.roles import Role
from domain.severity import DEFAULT_MAJOR_THRESHOLD, Flags, Severity, decide
from domain.money import parse_amount
from domain.notify import notify, users_with
from domain.text import checked, small_int
from domain.workflow import bump_stage_count
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
URGENCY_LABELS = {Urgency.HIGH: N_("紧急"), Urgency.MEDIUM: N_("一般"), Urgency.LOW: N_("不急")}
CUSTOMER_CLASSES = {"vip": N_("VIP"), "key": N_("重点客户"), "ordinary": N_("普通")}

# Mainland mobile (11 digits, 1[3-9]…), landline with area code, or +country for foreign customers.
PHONE_RE = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8}(-\d{1,6})?|\+\d{6,15})$")
EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
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


@dataclass
class IntakeResult:
    complaint: Complaint
    created: bool          # False: the token had been used; this is the earlier complaint
    major_reasons: list[str]


def normalise_phone(phone: str | None) -> str | None:
    phone = re.sub(r"[\s()（）]", "", phone or "")
    return phone or None


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

    problems: list[InvalidInput] = []

    def check(fn, *args, **kwargs):
        """Run one check; remember its complaint and go on, so that the form shows them all."""
        try:
            return fn(*args, **kwargs)
        except InvalidInput as err:
            problems.append(err)
            return None

    name = check(checked, data.customer_name, "customer_name", 60, required=True, multiline=False,
                 message=N_("请填写顾客姓名。"))
    phone = normalise_phone(data.customer_phone)
    email = check(checked, data.customer_email, "customer_email", 120, multiline=False)
    if not phone and not email:
        problems.append(InvalidInput(N_("请至少留下顾客的电话或电子邮箱，方便回访。"), field="customer_phone"))
    if phone and (len(phone) > 20 or not PHONE_RE.match(phone)):
        problems.append(InvalidInput(N_("电话号码格式不对：手机 11 位，座机加区号，例如 021-62345678。"),
                                     field="customer_phone"))
    if email and not EMAIL_RE.match(email):
        problems.append(InvalidInput(N_("电子邮箱格式不对。"), field="customer_email"))
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
    extra = check(_extra, session, actor, data.extra, problems) or {}
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
    first = ComplaintEvent(complaint=complaint, at=now, actor_id=actor.id, kind="registered",
                           to_stage="new", changes={"severity": severity.value, "reasons": reasons})
    session.add(first)
    if on_the_spot:
        session.add(ComplaintEvent(complaint=complaint, at=now, actor_id=actor.id, kind="settled_on_the_spot",
                                   from_stage="new", to_stage="follow_up", comment=spot_action))
    try:
        session.flush()
        files = attachments.claim(session, token, actor, complaint) if token else 0
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
    return IntakeResult(complaint, True, reasons)


# "More details" fields: text limits and types, by model column.
EXTRA_TEXT = {"customer_company": 120, "customer_address": 200, "customer_code": 40, "customer_class": 20,
              "product_name": 120, "model_no": 60, "batch_no": 60, "order_no": 60, "contract_no": 60,
              "complained_person": 60, "sample_location": 120}
EXTRA_INT = ("quantity", "defective_quantity", "complained_unit_id", "complained_user_id",
             "duplicate_of_id", "repeat_of_id")
EXTRA_DATE = ("ship_date", "purchase_date")
EXTRA_BOOL = ("customer_foreign", "formal", "sample_received")


def _small_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**31


def _choice(enum, value, field_name, message=None):
    try:
        return enum(value)
    except ValueError:
        raise InvalidInput(message or N_("选项无效，请重新选择。"), field=field_name) from None


def _extra(session, actor, extra: dict, problems: list) -> dict:
    """The "more details" values, parsed from form strings or given typed; every problem is
    appended to `problems`."""
    from domain.scoping import complaint_or_none
    from models.org import OrgUnit

    out = {}
    for key, value in extra.items():
        try:
            if key == "customer_class":
                if value not in (None, "") and value not in CUSTOMER_CLASSES:
                    raise InvalidInput(N_("选项无效，请重新选择。"), field=key)
                out[key] = value or None
            elif key in EXTRA_TEXT:
                out[key] = checked(value, key, EXTRA_TEXT[key], multiline=False)
            elif key in EXTRA_INT:
                if value in (None, ""):
                    continue
                value = small_int(value)
                if key in ("duplicate_of_id", "repeat_of_id") and value is None:
                    raise InvalidInput(N_("找不到要关联的那条投诉，或者它不在您的查看范围内。"), field="link_id")
                if value is None or value >= 2**31:
                    raise InvalidInput(N_("请填写一个合理的整数。"), field=key)
                if key == "complained_unit_id":
                    unit = session.get(OrgUnit, value) if value else None
                    if unit is None or not unit.active:
                        raise InvalidInput(N_("请从列表中选择单位。"), field=key)
                if key in ("duplicate_of_id", "repeat_of_id") and complaint_or_none(session, actor, value) is None:
                    raise InvalidInput(N_("找不到要关联的那条投诉，或者它不在您的查看范围内。"), field="link_id")
                out[key] = value
            elif key in EXTRA_DATE:
                if value in (None, ""):
                    continue
                if isinstance(value, str):
                    try:
                        value = date.fromisoformat(value.strip())
                    except ValueError:
                        raise InvalidInput(N_("日期格式不对，例如 2026-11-23。"), field=key) from None
                if not isinstance(value, date) or not date(2000, 1, 1) <= value <= date(2100, 1, 1):
                    raise InvalidInput(N_("日期格式不对，例如 2026-11-23。"), field=key)
                out[key] = value
            elif key in EXTRA_BOOL:
                out[key] = bool(value)
            else:
                raise ValueError(f"unknown intake field {key!r}")
        except InvalidInput as err:
            problems.append(err)
    if out.get("duplicate_of_id") and out.get("repeat_of_id"):
        problems.append(InvalidInput(N_("一条投诉只能标成“二次投诉”或“重复登记”之一。"), field="link_id"))
    return out
