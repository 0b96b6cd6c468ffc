"""Who sees personal data unmasked: the SQL form the register search uses agrees with the rule."""
from sqlalchemy import select

from domain import privacy
from models import db
from models.complaint import Complaint
from models.user import User
from tests.domain.test_workflow import dispatch, do, new_complaint, unit


def test_the_search_condition_matches_needs_personal_data_for_everyone(demo):
    at_store = new_complaint()                                   # 上海徐汇店, never dispatched
    answered = new_complaint(customer_phone="13800000001")
    dispatch(answered)                                           # 生产部
    moved = new_complaint(clerk="cs1", customer_phone="13800000002")
    dispatch(moved)
    do("quality", moved, "reassign", unit_id=unit("销售部").id)
    elsewhere = new_complaint(clerk="receiver2", customer_phone="13800000003")   # 杭州西湖店
    db.session.commit()
    complaints = [at_store, answered, moved, elsewhere]
    checked = 0
    for u in db.session.scalars(select(User)):
        condition = privacy.unmasked_condition(db.session, u)
        for c in complaints:
            in_sql = condition is None or db.session.scalar(
                select(Complaint.id).where(Complaint.id == c.id, condition)) is not None
            assert in_sql == privacy.needs_personal_data(db.session, u, c), (u.username, c.customer_phone)
            checked += 1
    assert checked >= 4 * 20
