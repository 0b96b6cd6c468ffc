from decimal import Decimal

import pytest

from domain.severity import Flags, Severity, decide


@pytest.mark.parametrize("flags,reasons", [
    (Flags(safety=True), ["safety"]),
    (Flags(amount_involved=Decimal("50000")), ["amount"]),       # "reaches" the threshold
    (Flags(amount_claimed=Decimal("50000.00")), ["amount"]),
    (Flags(media=True), ["media"]),
    (Flags(sensitive=True), ["sensitive"]),
    (Flags(reputation=True), ["reputation"]),
    (Flags(safety=True, media=True, amount_claimed=Decimal("80000")), ["safety", "amount", "media"]),
])
def test_triggers_force_major_and_say_why(flags, reasons):
    assert decide(Severity.MINOR, flags) == (Severity.MAJOR, reasons)


def test_without_a_trigger_the_receivers_choice_stands():
    assert decide("general", Flags(amount_involved=Decimal("49999.99"))) == (Severity.GENERAL, [])
    assert decide(Severity.SERIOUS, Flags()) == (Severity.SERIOUS, [])


def test_threshold_is_a_parameter():
    assert decide("minor", Flags(amount_claimed=Decimal("2000")), threshold=Decimal("1000"))[0] is Severity.MAJOR
