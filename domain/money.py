"""Money: amounts as typed on a form → Decimal (yuan, two places), and back to text.

One reading for every form (intake, the resolution proposal, penalties, settings): full-width
digits and separators allowed, thousands separators ignored, never negative, never absurd."""
from __future__ import annotations

from decimal import Decimal, InvalidOperation

from domain.errors import InvalidInput, N_

FULL_WIDTH = str.maketrans("０１２３４５６７８９．，", "0123456789.,")
CENT = Decimal("0.01")
LARGEST = Decimal("999999999.99")   # below 10 亿: anything above is a typing mistake


def parse_amount(value, field: str, *, minimum: Decimal = Decimal(0), maximum: Decimal = LARGEST,
                 required: bool = False, message: str | None = None,
                 out_of_range: str | None = None) -> Decimal | None:
    """The amount typed in `value`, rounded to the cent; None when empty (unless `required`).
    Raises InvalidInput on `field` — with `message` when given, else a message for the case;
    below `minimum` (as typed) or above `maximum` (to the cent) with `out_of_range` when given."""
    if value is None or not str(value).strip():
        if required:
            raise InvalidInput(message or N_("请填写金额。"), field=field)
        return None
    try:
        amount = Decimal(str(value).translate(FULL_WIDTH).replace(",", "").strip())
    except InvalidOperation:
        raise InvalidInput(message or N_("请填写金额数字，例如 128.50。"), field=field) from None
    if not amount.is_finite():
        raise InvalidInput(message or N_("请填写金额数字，例如 128.50。"), field=field)
    if amount < minimum:
        raise InvalidInput(out_of_range or message or N_("金额不能是负数。"), field=field)
    amount = amount.quantize(CENT)   # 999999999.999 rounds up past the largest: checked after
    if amount > maximum:
        raise InvalidInput(out_of_range or message or N_("金额太大了，请检查是否多输了数字。"), field=field)
    return amount


def format_money(value) -> str:
    """1234.5 → "1,234.50" (the screens put ¥ in front)."""
    if value is None or value == "":
        return ""
    return "{:,.2f}".format(Decimal(value))
