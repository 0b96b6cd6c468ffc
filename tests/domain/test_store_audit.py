"""Store audit (seed 001 五.2): complaints about a store that the store never recorded itself."""
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from domain import store_audit
from domain.errors import InvalidInput, NotAllowed
from models import db
from models.org import OrgUnit
from tests.domain.test_ledger import NOV, register, user

DAY = timedelta(days=1)
PERIOD = (datetime(2026, 11, 1, tzinfo=timezone.utc), datetime(2026, 12, 1, tzinfo=timezone.utc))


def store(name):
    return db.session.scalar(select(OrgUnit).where(OrgUnit.name == name))


def test_complaints_the_store_never_recorded_are_listed_until_reviewed(demo):
    xh = store("上海徐汇店").id
    hotline = register("cs1", NOV + 5 * DAY, customer_phone="13900000001", extra={"complained_unit_id": xh})
    recorded = register("cs1", NOV + 5 * DAY, customer_phone="13900000002", extra={"complained_unit_id": xh})
    register("receiver", NOV + 2 * DAY, customer_phone="13900000002")        # the store had it on record
    register("receiver", NOV + 3 * DAY, customer_phone="13900000003", extra={"complained_unit_id": xh})  # its own
    about_branch = register("cs1", NOV + 5 * DAY, customer_phone="13900000004",
                            extra={"complained_unit_id": store("上海分公司").id})   # a branch, not a store
    db.session.commit()
    found = store_audit.suspects(db.session, *PERIOD)
    assert [c.id for c in found] == [hotline.id]
    assert recorded not in found and about_branch not in found
    with pytest.raises(InvalidInput):
        store_audit.review(db.session, user("quality"), hotline, "confirmed", "  ", NOV + 6 * DAY)
    with pytest.raises(NotAllowed):
        store_audit.review(db.session, user("xh_head"), hotline, "dismissed", "有记录", NOV + 6 * DAY)
    store_audit.review(db.session, user("quality"), hotline, "confirmed", "门店意见簿无记录，店长承认未登记", NOV + 6 * DAY)
    db.session.commit()
    assert store_audit.suspects(db.session, *PERIOD) == []
    assert [c.id for c in store_audit.suspects(db.session, *PERIOD, reviewed=True)] == [hotline.id]
    assert store_audit.confirmed_count(db.session, xh, *PERIOD) == 1
