"""The customer's and the product's fields as intake takes them (SPEC §2): name, phone or e-mail,
and the "more details" — checked the same way when a complaint is registered (domain.intake) and
when it is corrected later (domain.workflow.corrections)."""
from __future__ import annotations

import re
import unicodedata
from datetime import date

from domain.errors import InvalidInput, N_
from domain.text import checked, small_int

CUSTOMER_CLASSES = {"vip": N_("VIP"), "key": N_("重点客户"), "ordinary": N_("普通")}

# Mainland mobile (11 digits, 1[3-9]…), landline with area code, or +country for foreign customers.
PHONE_RE = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8}(-\d{1,6})?|\+\d{6,15})$")
EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")


def normalise_phone(phone: str | None) -> str | None:
    """Spaces and brackets out; full-width digits, plus and minus (a Chinese keyboard's) made plain."""
    phone = re.sub(r"[\s()]", "", unicodedata.normalize("NFKC", phone or "")).replace("—", "-")
    return phone or None


# "More details" fields: text limits and types, by model column.
EXTRA_TEXT = {"customer_company": 120, "customer_address": 200, "customer_code": 40, "customer_class": 20,
              "product_name": 120, "model_no": 60, "batch_no": 60, "order_no": 60, "contract_no": 60,
              "complained_person": 60, "sample_location": 120}
EXTRA_INT = ("quantity", "defective_quantity", "complained_unit_id", "complained_user_id",
             "duplicate_of_id", "repeat_of_id")
EXTRA_DATE = ("ship_date", "purchase_date")
EXTRA_BOOL = ("customer_foreign", "formal", "sample_received")


def customer_name(value) -> str:
    return checked(value, "customer_name", 60, required=True, multiline=False, message=N_("请填写顾客姓名。"))


def contact(phone, email, problems: list) -> tuple[str | None, str | None]:
    """The customer's phone (normalised) and e-mail, at least one of them, each in a form we can
    call or write to; every problem is appended to `problems`. Intake and corrections check them."""
    phone = normalise_phone(phone)
    try:
        email = checked(email, "customer_email", 120, multiline=False)
    except InvalidInput as err:
        problems.append(err)
        email = None
    if not phone and not email:
        problems.append(InvalidInput(N_("请至少留下顾客的电话或电子邮箱，方便回访。"), field="customer_phone"))
    if phone and (len(phone) > 20 or not PHONE_RE.match(phone)):
        problems.append(InvalidInput(N_("电话号码格式不对：手机 11 位，座机加区号，例如 021-62345678。"),
                                     field="customer_phone"))
    if email and not EMAIL_RE.match(email):
        problems.append(InvalidInput(N_("电子邮箱格式不对。"), field="customer_email"))
    return phone, email


def details(session, actor, extra: dict, problems: list) -> dict:
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
