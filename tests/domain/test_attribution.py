"""Responsibility attribution on seed 001's cases (六.1–2): team known / not known, individual known /
not known, store vs branch; confirmation through the workflow with a reason when it differs."""
import pytest
from sqlalchemy import select

from domain import attribution, queues
from domain.errors import InvalidInput, NotAllowed
from models.complaint import Attribution
from tests.builders import DEPARTMENTS, act, make_complaint, register, unit, user


def approved(session, dept="生产部", **fields):
    """Proposed by the department's head, approved by the manager (where attribution starts)."""
    return make_complaint(session, "executing", dept=dept, who={"propose": DEPARTMENTS[dept][1], "approve": "manager"},
                          **fields)


def test_a_complaint_is_attributed_only_once_valid_and_approved(session, company):
    c = register(session)
    assert attribution.propose(c) is None
    with pytest.raises(NotAllowed):
        act(session, "quality", c, "attribute", kind="store", unit_id=unit(session, "上海分公司/上海徐汇店").id)


def test_processing_units_team_when_known_else_the_factory(session, company):
    team = approved(session, extra={"complained_unit_id": unit(session, "嘉兴食品厂/加工一班").id})
    p = attribution.propose(team)
    assert (p.kind, p.unit_id) == ("team", unit(session, "嘉兴食品厂/加工一班").id)
    factory = approved(session, extra={"complained_unit_id": unit(session, "嘉兴食品厂").id})
    p = attribution.propose(factory)
    assert (p.kind, p.unit_id) == ("factory", unit(session, "嘉兴食品厂").id)


def test_service_individual_when_known_else_the_store_or_branch(session, company):
    named = user(session, "receiver2")
    person = approved(session, dept="销售部", extra={"complained_user_id": named.id})
    p = attribution.propose(person)
    assert (p.kind, p.user_id, p.unit_id) == ("individual", named.id, named.org_unit_id)
    store = approved(session, dept="销售部")          # received at 上海徐汇店, nobody named
    p = attribution.propose(store)
    assert (p.kind, p.unit_id) == ("store", unit(session, "上海分公司/上海徐汇店").id)
    branch = approved(session, dept="销售部", clerk="sh_head")     # received at the branch office itself
    p = attribution.propose(branch)
    assert (p.kind, p.unit_id) == ("branch", unit(session, "上海分公司").id)
    hotline = approved(session, dept="销售部", clerk="cs1")        # the call centre, a head-office department
    p = attribution.propose(hotline)
    assert (p.kind, p.unit_id) == ("department", unit(session, "销售部").id)


def test_quality_confirms_or_changes_with_a_reason(session, company):
    c = approved(session, extra={"complained_unit_id": unit(session, "嘉兴食品厂").id})
    assert c in queues.to_attribute(session)
    p = attribution.propose(c)
    with pytest.raises(InvalidInput) as err:      # a different answer needs a reason
        act(session, "quality", c, "attribute", kind="team", unit_id=unit(session, "嘉兴食品厂/包装班").id)
    assert err.value.field == "reason"
    with pytest.raises(InvalidInput):             # a team must be a team
        act(session, "quality", c, "attribute", kind="team", unit_id=unit(session, "嘉兴食品厂").id, reason="x")
    act(session, "quality", c, "attribute", kind="team", unit_id=unit(session, "嘉兴食品厂/包装班").id, reason="封口不严，查明为包装班")
    row = session.scalar(select(Attribution).where(Attribution.complaint_id == c.id))
    assert (row.kind, row.unit.name, row.proposed_kind, row.proposed_unit_id) == ("team", "包装班", "factory", p.unit_id)
    assert row.reason == "封口不严，查明为包装班" and row.confirmed_by.username == "quality"
    assert c.attributed and c not in queues.to_attribute(session)
    event = c.events[-1]
    assert event.kind == "attribute" and event.changes["as_proposed"] is False and event.version == c.version
    # as proposed: no reason needed
    d = approved(session, extra={"complained_unit_id": unit(session, "嘉兴食品厂/加工一班").id})
    act(session, "manager", d, "attribute", kind="team", unit_id=unit(session, "嘉兴食品厂/加工一班").id)
    assert d.events[-1].changes["as_proposed"] is True


def test_only_quality_or_the_manager_and_not_the_person_complained_about(session, company):
    c = approved(session, dept="销售部", extra={"complained_user_id": user(session, "quality2").id})
    with pytest.raises(NotAllowed):
        act(session, "handler", c, "attribute", kind="store", unit_id=unit(session, "上海分公司/上海徐汇店").id, reason="x")
    with pytest.raises(NotAllowed):
        act(session, "quality2", c, "attribute", kind="individual", user_id=user(session, "quality2").id)
