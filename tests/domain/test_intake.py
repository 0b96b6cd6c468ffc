import threading
from datetime import datetime, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from domain.errors import InvalidInput, NotAllowed
from domain.intake import IntakeData, register
from models.complaint import Category, Complaint, ComplaintEvent
from models.user import User

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 23, 3, 0, tzinfo=timezone.utc)


def user(session, username):
    return session.scalar(select(User).where(User.username == username))


def category(session, name="异物"):
    return session.scalar(select(Category).where(Category.name == name)).id


def data(session, **kw):
    base = dict(customer_name="王女士", customer_phone="138 1234 5678", content="月饼里吃出一根头发",
                category_id=category(session), severity="general", demand="refund")
    base.update(kw)
    return IntakeData(**base)


def count(session):
    return session.scalar(select(func.count()).select_from(Complaint))


def test_register_numbers_and_records_the_first_event(session, company):
    clerk = user(session, "receiver")
    result = register(session, clerk, data(session), now=NOW, tz=TZ, token="t1")
    c = result.complaint
    assert result.created and c.number == "TS-202611-0001" and c.stage == "new"
    assert c.customer_phone == "13812345678"
    assert c.first_responder_id == clerk.id and c.receiving_unit.name == "上海徐汇店"
    assert [e.kind for e in c.events] == ["registered"]
    assert register(session, clerk, data(session), now=NOW, tz=TZ).complaint.number == "TS-202611-0002"


@pytest.mark.parametrize("changes,field", [
    (dict(customer_name="  "), "customer_name"),
    (dict(customer_phone=None, customer_email=None), "customer_phone"),
    (dict(customer_phone="12345"), "customer_phone"),
    (dict(customer_phone=None, customer_email="not-an-email"), "customer_email"),
    (dict(content=""), "content"),
    (dict(content="很长" * 5000), "content"),
    (dict(amount_claimed="-5"), "amount_claimed"),
    (dict(amount_claimed="1e12"), "amount_claimed"),
    (dict(amount_involved="十块"), "amount_involved"),
    (dict(category_id=999999), "category_id"),
])
def test_bad_input_is_refused_and_nothing_is_stored(session, company, changes, field):
    with pytest.raises(InvalidInput) as err:
        register(session, user(session, "receiver"), data(session, **changes), now=NOW, tz=TZ)
    assert err.value.field == field
    assert count(session) == 0


def test_landline_foreign_and_email_only_are_fine(session, company):
    clerk = user(session, "receiver")
    for changes in (dict(customer_phone="021-62345678"), dict(customer_phone="+85291234567"),
                    dict(customer_phone=None, customer_email="li@example.com")):
        assert register(session, clerk, data(session, **changes), now=NOW, tz=TZ).created


def test_major_is_forced_with_reasons(session, company):
    result = register(session, user(session, "receiver"),
                      data(session, severity="minor", safety=True, amount_claimed="60000"), now=NOW, tz=TZ)
    assert result.complaint.severity == "major"
    assert result.major_reasons == ["safety", "amount"] == result.complaint.severity_reasons
    assert result.complaint.amount_claimed == Decimal("60000.00")


def test_minor_settled_on_the_spot_goes_to_follow_up(session, company):
    result = register(session, user(session, "receiver"),
                      data(session, severity="minor", spot_action="当场换了一盒新的并致歉", spot_accepted=True),
                      now=NOW, tz=TZ)
    c = result.complaint
    assert c.stage == "follow_up" and c.spot_accepted and c.number.endswith("-0001")
    assert [e.kind for e in c.events] == ["registered", "settled_on_the_spot"]


def test_on_the_spot_needs_minor_and_acceptance(session, company):
    clerk = user(session, "receiver")
    with pytest.raises(InvalidInput) as err:
        register(session, clerk, data(session, severity="general", spot_action="退款"), now=NOW, tz=TZ)
    assert err.value.field == "spot_action"
    with pytest.raises(InvalidInput) as err:  # forced to major by the safety flag
        register(session, clerk, data(session, severity="minor", safety=True, spot_action="退款", spot_accepted=True),
                 now=NOW, tz=TZ)
    assert err.value.field == "spot_action"
    with pytest.raises(InvalidInput) as err:
        register(session, clerk, data(session, severity="minor", spot_action="退款", spot_accepted=False), now=NOW, tz=TZ)
    assert err.value.field == "spot_accepted"


def test_only_receivers_register(session, company):
    with pytest.raises(NotAllowed):
        register(session, user(session, "handler2"), data(session), now=NOW, tz=TZ)


def test_same_token_returns_the_same_complaint(session, company):
    clerk = user(session, "receiver")
    first = register(session, clerk, data(session), now=NOW, tz=TZ, token="tok-1")
    session.commit()
    again = register(session, clerk, data(session, content="改了内容"), now=NOW, tz=TZ, token="tok-1")
    assert not again.created and again.complaint.id == first.complaint.id
    assert count(session) == 1
    with pytest.raises(NotAllowed):
        register(session, user(session, "receiver2"), data(session), now=NOW, tz=TZ, token="tok-1")


def test_a_used_form_token_is_one_rule_for_the_intake_page_and_register(session, company):
    """Issue 14: the intake view and register() each decided what a used token means; the view now
    asks intake.already_registered before it stores the photos, and register() asks it too."""
    from domain.intake import FormUsed, already_registered
    clerk, other = user(session, "receiver"), user(session, "receiver2")
    assert already_registered(session, clerk, "tok-2") is None and already_registered(session, clerk, None) is None
    first = register(session, clerk, data(session), now=NOW, tz=TZ, token="tok-2").complaint
    session.commit()
    assert already_registered(session, clerk, "tok-2") is first          # a double tap: show that one
    with pytest.raises(FormUsed) as err:                                # a shared tablet: a fresh form
        already_registered(session, other, "tok-2")
    assert isinstance(err.value, NotAllowed) and "已经被别人提交过了" in err.value.message
    with pytest.raises(FormUsed):
        register(session, other, data(session), now=NOW, tz=TZ, token="tok-2")

def test_concurrent_double_submit_makes_one_complaint_and_no_gap(session, company):
    engine = session.get_bind()
    clerk_id = user(session, "receiver").id
    session.commit()
    results, errors = [], []
    barrier = threading.Barrier(6)

    def submit(token):
        try:
            with Session(engine) as s:
                clerk = s.get(User, clerk_id)
                payload = data(s)
                barrier.wait()
                r = register(s, clerk, payload, now=NOW, tz=TZ, token=token)
                s.commit()
                results.append((token, r.complaint.number, r.created))
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=submit, args=(t,)) for t in ["same"] * 4 + ["other-1", "other-2"]]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    same = {n for tok, n, _ in results if tok == "same"}
    assert len(same) == 1 and sum(created for tok, _, created in results if tok == "same") == 1
    numbers = sorted(n for _, n, _ in results)
    assert sorted(set(numbers)) == ["TS-202611-0001", "TS-202611-0002", "TS-202611-0003"]
    assert count(session) == 3
    assert session.scalar(select(func.count()).select_from(ComplaintEvent)) == 3
