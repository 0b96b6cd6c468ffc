"""Who sees personal data unmasked: the SQL form the register search uses agrees with the rule."""
from sqlalchemy import select

from domain import privacy
from models.complaint import Complaint
from models.user import User
from tests.builders import act, make_complaint, unit


def test_the_search_condition_matches_needs_personal_data_for_everyone(session, company):
    at_store = make_complaint(session)                                   # 上海徐汇店, never dispatched
    answered = make_complaint(session, "investigating", customer_phone="13800000001")             # 生产部
    moved = make_complaint(session, "investigating", clerk="cs1", customer_phone="13800000002")
    act(session, "quality", moved, "reassign", unit_id=unit(session, "销售部").id)
    elsewhere = make_complaint(session, clerk="receiver2", customer_phone="13800000003")   # 杭州西湖店
    session.commit()
    complaints = [at_store, answered, moved, elsewhere]
    checked = 0
    for u in session.scalars(select(User)):
        condition = privacy.unmasked_condition(session, u)
        for c in complaints:
            in_sql = condition is None or session.scalar(
                select(Complaint.id).where(Complaint.id == c.id, condition)) is not None
            assert in_sql == privacy.needs_personal_data(session, u, c), (u.username, c.customer_phone)
            checked += 1
    assert checked >= 4 * 20
