"""Store audit (seed 001 五.2): complaints about a store that the store never recorded itself."""
from datetime import datetime, timedelta, timezone

import pytest

from domain import store_audit
from domain.errors import InvalidInput, NotAllowed
from tests.builders import register, unit, user
from tests.domain.test_ledger import NOV

DAY = timedelta(days=1)
PERIOD = (datetime(2026, 11, 1, tzinfo=timezone.utc), datetime(2026, 12, 1, tzinfo=timezone.utc))


def test_complaints_the_store_never_recorded_are_listed_until_reviewed(session, company):
    xh = unit(session, "上海徐汇店").id
    about_xh = {"complained_unit_id": xh}
    hotline = register(session, "cs1", at=NOV + 5 * DAY, customer_phone="13900000001", extra=about_xh)
    recorded = register(session, "cs1", at=NOV + 5 * DAY, customer_phone="13900000002", extra=about_xh)
    register(session, "receiver", at=NOV + 2 * DAY, customer_phone="13900000002")        # the store had it on record
    register(session, "receiver", at=NOV + 3 * DAY, customer_phone="13900000003", extra=about_xh)   # its own
    about_branch = register(session, "cs1", at=NOV + 5 * DAY, customer_phone="13900000004",
                            extra={"complained_unit_id": unit(session, "上海分公司").id})   # a branch, not a store
    session.commit()
    found = store_audit.suspects(session, *PERIOD)
    assert [c.id for c in found] == [hotline.id]
    assert recorded not in found and about_branch not in found
    with pytest.raises(InvalidInput):
        store_audit.review(session, user(session, "quality"), hotline, "confirmed", "  ", NOV + 6 * DAY)
    with pytest.raises(NotAllowed):
        store_audit.review(session, user(session, "xh_head"), hotline, "dismissed", "有记录", NOV + 6 * DAY)
    store_audit.review(session, user(session, "quality"), hotline, "confirmed", "门店意见簿无记录，店长承认未登记", NOV + 6 * DAY)
    session.commit()
    assert store_audit.suspects(session, *PERIOD) == []
    assert [c.id for c in store_audit.suspects(session, *PERIOD, reviewed=True)] == [hotline.id]
    assert store_audit.confirmed_count(session, xh, *PERIOD) == 1
