import pytest
from sqlalchemy import select

from domain import orgtree
from domain.errors import InvalidInput
from domain.orgtree import UnitKind
from models import utcnow
from models.org import OrgUnit
from models.user import User


def unit(session, name):
    return session.scalar(select(OrgUnit).where(OrgUnit.name == name))


@pytest.fixture
def admin(session):
    return session.scalar(select(User).where(User.username == "admin"))


def test_demo_tree_has_the_shape_of_spec_11(session, company):
    kinds = [u.kind for u in session.scalars(select(OrgUnit))]
    assert kinds.count("company") == 1
    assert kinds.count("branch") == 3
    assert kinds.count("store") == 8
    assert kinds.count("factory") == 2
    assert kinds.count("team") == 6
    assert session.scalar(select(User).where(User.username == "receiver")).org_unit.parent.name == "上海分公司"


def test_subtree_follows_every_level(session, company):
    sh = unit(session, "上海分公司")
    ids = orgtree.subtree_ids(session, sh.id)
    names = {session.get(OrgUnit, i).name for i in ids}
    assert names == {"上海分公司", "上海徐汇店", "上海浦东店", "上海静安店"}


@pytest.mark.parametrize("kind,parent,ok", [
    ("store", "上海分公司", True),
    ("store", "销售部", False),
    ("team", "嘉兴食品厂", True),
    ("team", "上海分公司", False),
    ("branch", "鑫源食品股份有限公司", True),
    ("factory", "上海分公司", False),
])
def test_kinds_sit_only_under_allowed_parents(session, company, admin, kind, parent, ok):
    if ok:
        new = orgtree.add_unit(session, admin, name="新单位", kind=kind, parent=unit(session, parent), now=utcnow())
        assert new.id and new.parent.name == parent
    else:
        with pytest.raises(InvalidInput) as err:
            orgtree.add_unit(session, admin, name="新单位", kind=kind, parent=unit(session, parent), now=utcnow())
        assert err.value.field == "parent_id"


def test_second_company_and_blank_or_long_names_are_refused(session, company, admin):
    with pytest.raises(InvalidInput):
        orgtree.add_unit(session, admin, name="另一家公司", kind=UnitKind.COMPANY, parent=None, now=utcnow())
    with pytest.raises(InvalidInput):
        orgtree.add_unit(session, admin, name="   ", kind="store", parent=unit(session, "上海分公司"), now=utcnow())
    with pytest.raises(InvalidInput):
        orgtree.add_unit(session, admin, name="店" * 61, kind="store", parent=unit(session, "上海分公司"), now=utcnow())


def test_sibling_names_are_unique_but_cousins_may_share(session, company, admin):
    with pytest.raises(InvalidInput):
        orgtree.add_unit(session, admin, name="上海徐汇店", kind="store", parent=unit(session, "上海分公司"), now=utcnow())
    # 原料班 exists under both factories: fine, they are different parents.
    assert len(session.scalars(select(OrgUnit).where(OrgUnit.name == "原料班")).all()) == 2


def test_move_refuses_cycles_and_wrong_parents(session, company, admin):
    sh = unit(session, "上海分公司")
    with pytest.raises(InvalidInput):
        orgtree.move_unit(session, admin, sh, sh, now=utcnow())
    store = unit(session, "上海徐汇店")
    with pytest.raises(InvalidInput):
        orgtree.move_unit(session, admin, store, unit(session, "嘉兴食品厂"), now=utcnow())
    orgtree.move_unit(session, admin, store, unit(session, "杭州分公司"), now=utcnow())
    assert store.parent.name == "杭州分公司"
    # A department may nest in a department; moving one under its own child is a cycle.
    parent_dept = unit(session, "品管部")
    child = orgtree.add_unit(session, admin, name="检验科", kind="department", parent=parent_dept, now=utcnow())
    with pytest.raises(InvalidInput):
        orgtree.move_unit(session, admin, parent_dept, child, now=utcnow())


def test_deactivate_refuses_units_with_people_or_active_children(session, company, admin):
    with pytest.raises(InvalidInput) as err:
        orgtree.deactivate_unit(session, admin, unit(session, "上海徐汇店"), now=utcnow())
    assert err.value.params["n"] == 2  # 陈晓 and 杨帆
    with pytest.raises(InvalidInput):
        orgtree.deactivate_unit(session, admin, unit(session, "嘉兴食品厂"), now=utcnow())
    empty = unit(session, "研发部")
    for user in session.scalars(select(User).where(User.org_unit_id == empty.id)):
        user.active = False
    orgtree.deactivate_unit(session, admin, empty, now=utcnow())
    assert empty.active is False
    with pytest.raises(InvalidInput):
        orgtree.add_unit(session, admin, name="研发一组", kind="department", parent=empty, now=utcnow())


def test_delete_only_what_nothing_refers_to(session, company, admin):
    store = unit(session, "上海徐汇店")
    assert orgtree.references(session, store) == 2
    with pytest.raises(InvalidInput):
        orgtree.delete_unit(session, admin, store, now=utcnow())
    assert unit(session, "上海徐汇店") is not None
    with pytest.raises(InvalidInput):  # has teams under it
        orgtree.delete_unit(session, admin, unit(session, "昆山食品厂"), now=utcnow())
    mistake = orgtree.add_unit(session, admin, name="建错的店", kind="store", parent=unit(session, "南京分公司"), now=utcnow())
    session.flush()
    orgtree.delete_unit(session, admin, mistake, now=utcnow())
    session.flush()
    assert unit(session, "建错的店") is None
