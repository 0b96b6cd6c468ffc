import threading
from datetime import datetime, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from domain.errors import InvalidInput, NotAllowed
from domain.intake import IntakeData, register
from models import db
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


def test_register_numbers_and_records_the_first_event(demo):
    clerk = user(demo, "receiver")
    result = register(demo, clerk, data(demo), now=NOW, tz=TZ, token="t1")
    c = result.complaint
    assert result.created and c.number == "TS-202611-0001" and c.stage == "new"
    assert c.customer_phone == "13812345678"
    assert c.first_responder_id == clerk.id and c.receiving_unit.name == "上海徐汇店"
    assert [e.kind for e in c.events] == ["registered"]
    assert register(demo, clerk, data(demo), now=NOW, tz=TZ).complaint.number == "TS-202611-0002"


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
def test_bad_input_is_refused_and_nothing_is_stored(demo, changes, field):
    with pytest.raises(InvalidInput) as err:
        register(demo, user(demo, "receiver"), data(demo, **changes), now=NOW, tz=TZ)
    assert err.value.field == field
    assert count(demo) == 0


def test_landline_foreign_and_email_only_are_fine(demo):
    clerk = user(demo, "receiver")
    for changes in (dict(customer_phone="021-62345678"), dict(customer_phone="+85291234567"),
                    dict(customer_phone=None, customer_email="li@example.com")):
        assert register(demo, clerk, data(demo, **changes), now=NOW, tz=TZ).created


def test_major_is_forced_with_reasons(demo):
    result = register(demo, user(demo, "receiver"),
                      data(demo, severity="minor", safety=True, amount_claimed="60000"), now=NOW, tz=TZ)
    assert result.complaint.severity == "major"
    assert result.major_reasons == ["safety", "amount"] == result.complaint.severity_reasons
    assert result.complaint.amount_claimed == Decimal("60000.00")


def test_minor_settled_on_the_spot_goes_to_follow_up(demo):
    result = register(demo, user(demo, "receiver"),
                      data(demo, severity="minor", spot_action="当场换了一盒新的并致歉", spot_accepted=True),
                      now=NOW, tz=TZ)
    c = result.complaint
    assert c.stage == "follow_up" and c.spot_accepted and c.number.endswith("-0001")
    assert [e.kind for e in c.events] == ["registered", "settled_on_the_spot"]


def test_on_the_spot_needs_minor_and_acceptance(demo):
    clerk = user(demo, "receiver")
    with pytest.raises(InvalidInput) as err:
        register(demo, clerk, data(demo, severity="general", spot_action="退款"), now=NOW, tz=TZ)
    assert err.value.field == "spot_action"
    with pytest.raises(InvalidInput) as err:  # forced to major by the safety flag
        register(demo, clerk, data(demo, severity="minor", safety=True, spot_action="退款", spot_accepted=True),
                 now=NOW, tz=TZ)
    assert err.value.field == "spot_action"
    with pytest.raises(InvalidInput) as err:
        register(demo, clerk, data(demo, severity="minor", spot_action="退款", spot_accepted=False), now=NOW, tz=TZ)
    assert err.value.field == "spot_accepted"


def test_only_receivers_register(demo):
    with pytest.raises(NotAllowed):
        register(demo, user(demo, "handler2"), data(demo), now=NOW, tz=TZ)


def test_same_token_returns_the_same_complaint(demo):
    clerk = user(demo, "receiver")
    first = register(demo, clerk, data(demo), now=NOW, tz=TZ, token="tok-1")
    demo.commit()
    again = register(demo, clerk, data(demo, content="改了内容"), now=NOW, tz=TZ, token="tok-1")
    assert not again.created and again.complaint.id == first.complaint.id
    assert count(demo) == 1
    with pytest.raises(NotAllowed):
        register(demo, user(demo, "receiver2"), data(demo), now=NOW, tz=TZ, token="tok-1")


def test_a_used_form_token_is_one_rule_for_the_intake_page_and_register(demo):
    """Issue 14: the intake view and register() each decided what a used token means; the view now
    asks intake.already_registered before it stores the photos, and register() asks it too."""
    from domain.intake import FormUsed, already_registered
    clerk, other = user(demo, "receiver"), user(demo, "receiver2")
    assert already_registered(demo, clerk, "tok-2") is None and already_registered(demo, clerk, None) is None
    first = register(demo, clerk, data(demo), now=NOW, tz=TZ, token="tok-2").complaint
    demo.commit()
    assert already_registered(demo, clerk, "tok-2") is first          # a double tap: show that one
    with pytest.raises(FormUsed) as err:                                # a shared tablet: a fresh form
        already_registered(demo, other, "tok-2")
    assert isinstance(err.value, NotAllowed) and "已经被别人提交过了" in err.value.message
    with pytest.raises(FormUsed):
        register(demo, other, data(demo), now=NOW, tz=TZ, token="tok-2")

def test_concurrent_double_submit_makes_one_complaint_and_no_gap(demo):
    engine = db.engine
    clerk_id = user(demo, "receiver").id
    demo.commit()
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
    assert count(demo) == 3
    assert demo.scalar(select(func.count()).select_from(ComplaintEvent)) == 3
