"""Amounts as typed → Decimal, and back to text: one reading for every form (domain.money)."""
from decimal import Decimal

import pytest

from domain.errors import InvalidInput
from domain.money import format_money, parse_amount


@pytest.mark.parametrize("typed, amount", [
    ("128.5", Decimal("128.50")), ("１２８．５", Decimal("128.50")), ("1,234", Decimal("1234.00")),
    (" 0 ", Decimal("0.00")), ("", None), (None, None), (Decimal("3"), Decimal("3.00")),
])
def test_typed_amounts(typed, amount):
    assert parse_amount(typed, "amount") == amount


@pytest.mark.parametrize("typed, message", [
    ("abc", "请填写金额数字，例如 128.50。"), ("-1", "金额不能是负数。"), ("1e12", "金额太大了，请检查是否多输了数字。"),
    ("999999999.999", "金额太大了，请检查是否多输了数字。"), ("NaN", "请填写金额数字，例如 128.50。"),
])
def test_each_mistake_has_its_message(typed, message):
    with pytest.raises(InvalidInput) as err:
        parse_amount(typed, "amount")
    assert err.value.message == message and err.value.field == "amount"


def test_a_setting_s_range_and_its_own_messages():
    """The admin's amounts (domain.settings): at least 1 yuan, below 10 亿, their own two messages."""
    def setting(typed):
        return parse_amount(typed, "major_threshold", minimum=Decimal(1), required=True,
                            message="NUMBER", out_of_range="RANGE")
    assert setting("50,000") == Decimal("50000.00")
    for typed, message in (("", "NUMBER"), ("五万", "NUMBER"), ("0.5", "RANGE"), ("-3", "RANGE"),
                           ("1000000000", "RANGE"), ("999999999.995", "RANGE")):
        with pytest.raises(InvalidInput) as err:
            setting(typed)
        assert err.value.message == message, typed


def test_set_amounts_come_out_as_before(session, company):
    """The settings page's messages did not change when its parsing moved to domain.money."""
    from sqlalchemy import select

    from domain import settings
    from models import utcnow
    from models.user import User
    admin = session.scalar(select(User).where(User.username == "admin"))
    assert settings.set_major_threshold(session, admin, "60,000", now=utcnow()) == Decimal("60000.00")
    for typed, message in (("abc", "请填写金额数字，例如 50000。"), ("0", "金额须在 1 元到 10 亿元之间。"),
                           ("1000000000", "金额须在 1 元到 10 亿元之间。")):
        with pytest.raises(InvalidInput) as err:
            settings.set_major_threshold(session, admin, typed, now=utcnow())
        assert err.value.message == message and err.value.field == "major_threshold"


@pytest.mark.parametrize("value, text", [
    (Decimal("1234.5"), "1,234.50"), ("1234.5", "1,234.50"), (0, "0.00"), (1234.5, "1,234.50"), (None, ""),
])
def test_format_money(value, text):
    assert format_money(value) == text
