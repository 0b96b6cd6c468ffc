import pytest
from sqlalchemy import select

from domain.scoping import EVERYTHING, covered_unit_ids, covers_unit
from models.org import OrgUnit
from models.user import User


def user(session, username):
    return session.scalar(select(User).where(User.username == username))


def names(session, ids):
    return {session.get(OrgUnit, i).name for i in ids}


def test_clerk_covers_only_own_store(session, company):
    assert names(session, covered_unit_ids(session, user(session, "receiver"))) == {"上海徐汇店"}


def test_head_covers_own_unit_and_everything_below(session, company):
    assert names(session, covered_unit_ids(session, user(session, "sh_head"))) == {
        "上海分公司", "上海徐汇店", "上海浦东店", "上海静安店"}
    assert names(session, covered_unit_ids(session, user(session, "jx_head"))) == {
        "嘉兴食品厂", "原料班", "加工一班", "包装班"}


def test_handler_who_is_not_head_covers_own_department(session, company):
    assert names(session, covered_unit_ids(session, user(session, "handler2"))) == {"生产部"}


@pytest.mark.parametrize("username", ["quality", "manager", "vp"])
def test_quality_and_manager_see_everything(session, company, username):
    assert covered_unit_ids(session, user(session, username)) is EVERYTHING
    other = session.scalar(select(OrgUnit).where(OrgUnit.name == "南京河西店"))
    assert covers_unit(session, user(session, username), other.id)


def test_other_branch_store_is_not_covered(session, company):
    other = session.scalar(select(OrgUnit).where(OrgUnit.name == "杭州西湖店"))
    assert not covers_unit(session, user(session, "receiver"), other.id)
    assert not covers_unit(session, user(session, "sh_head"), other.id)


def test_visible_complaints_follow_the_units_and_the_first_responder(session, company):
    from datetime import datetime, timezone
    from zoneinfo import ZoneInfo

    from domain.intake import IntakeData, register
    from domain.scoping import complaint_or_none, visible_complaints
    from models.complaint import Category

    cat = session.scalar(select(Category).where(Category.name == "异物")).id
    now, tz = datetime(2026, 11, 23, 3, 0, tzinfo=timezone.utc), ZoneInfo("Asia/Shanghai")

    def make(username):
        return register(session, user(session, username), IntakeData(customer_name="顾客", customer_phone="13800000000",
                        content="内容", category_id=cat), now=now, tz=tz).complaint

    xuhui, xihu = make("receiver"), make("receiver2")

    def seen(username):
        return {c.id for c in session.scalars(visible_complaints(session, user(session, username)))}

    assert seen("receiver") == {xuhui.id}
    assert seen("xh_head") == {xuhui.id}          # same store
    assert seen("sh_head") == {xuhui.id}          # branch head covers its stores
    assert seen("receiver2") == {xihu.id}
    assert seen("quality") == seen("manager") == {xuhui.id, xihu.id}
    assert seen("admin") == set()                 # configuration, not complaint contents
    assert complaint_or_none(session, user(session, "receiver"), xihu.id) is None
    assert complaint_or_none(session, user(session, "receiver2"), xihu.id).id == xihu.id
    # The first responder keeps seeing it after moving to another store.
    clerk = user(session, "receiver")
    clerk.org_unit_id = session.scalar(select(OrgUnit.id).where(OrgUnit.name == "上海浦东店"))
    session.flush()
    assert seen("receiver") == {xuhui.id}
