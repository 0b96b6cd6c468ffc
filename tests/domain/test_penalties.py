"""Penalty rules (admin table) and the amount the rules propose (SPEC §6)."""
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from domain import penalties, store_audit
from domain.errors import InvalidInput, NotAllowed, Stale
from models import utcnow
from models.complaint import Attribution
from tests.builders import NOW, act, unit, user
from tests.domain.test_attribution import approved


def step(session, who, c, name, version=None, **fields):
    """One penalty step on complaint `c` by `who`."""
    return penalties.act(session, user(session, who), c, name, penalties.STEPS[name].fields(**fields), version=version,
                         now=NOW)


def attribute(session, c, kind, unit_path):
    act(session, "quality", c, "attribute", kind=kind, unit_id=unit(session, unit_path).id)
    return session.scalar(select(Attribution).where(Attribution.complaint_id == c.id))


def test_the_default_table_and_no_surcharge(session, company):
    c = approved(session, extra={"complained_unit_id": unit(session, "嘉兴食品厂/加工一班").id})
    a = attribute(session, c, "team", "嘉兴食品厂/加工一班")
    p = penalties.propose(session, c, a, NOW)
    assert (p.base, p.parts, p.amount) == (Decimal("200"), [], Decimal("200"))      # general × team
    # ten days on, its answer clock (5 working days) has run out: handled late
    from datetime import timedelta
    assert [n for n, _p, _a in penalties.propose(session, c, a, NOW + timedelta(days=10)).parts] == ["overdue"]


def test_surcharges_for_overdue_repeat_and_concealment(session, company):
    first = approved(session, dept="销售部", clerk="cs1")
    c = approved(session, dept="销售部", customer_phone="13812345678", clerk="cs1",
                 extra={"repeat_of_id": first.id, "complained_unit_id": unit(session, "上海分公司/上海徐汇店").id})
    store_audit.review(session, user(session, "quality"), c, "confirmed", "门店未登记", NOW)
    a = attribute(session, c, "store", "上海分公司/上海徐汇店")
    from models.sla import SlaClock
    clock = session.scalar(select(SlaClock).where(SlaClock.complaint_id == c.id, SlaClock.kind == "dispatch"))
    clock.deadline = clock.stopped_at - timedelta(hours=1)      # dispatched an hour late
    p = penalties.propose(session, c, a, NOW)
    # dispatched late, a repeat, and concealed
    assert p.base == Decimal("200")
    assert [(n, pct) for n, pct, _a in p.parts] == [("overdue", 20), ("repeat", 50), ("concealed", 100)]
    assert p.amount == Decimal("200") + Decimal("40") + Decimal("100") + Decimal("200")


def test_the_admin_edits_the_table_with_every_bad_cell_reported(session, company):
    table = {sev: {kind: str(v) for kind, v in row.items()} for sev, row in penalties.DEFAULT_RULES.items()}
    table["major"]["factory"] = "-5"
    table["minor"]["individual"] = "abc"
    with pytest.raises(InvalidInput) as err:
        penalties.set_rules(session, user(session, "admin"), table,
                            {"overdue": "20", "repeat": "x", "concealed": "100"}, now=utcnow())
    assert {p.field for p in err.value.problems} == {"rule_major_factory", "rule_minor_individual", "surcharge_repeat"}
    with pytest.raises(NotAllowed):
        penalties.set_rules(session, user(session, "manager"), table, {}, now=utcnow())
    table["major"]["factory"], table["minor"]["individual"] = "8,000", "80"
    penalties.set_rules(session, user(session, "admin"), table, {"overdue": "30%", "repeat": "0", "concealed": "150"},
                        now=utcnow())
    session.commit()
    assert penalties.rules(session)["major"]["factory"] == Decimal("8000")
    assert penalties.surcharges(session) == {"overdue": 30, "repeat": 0, "concealed": 150}


def test_a_penalty_goes_to_the_manager_and_a_serious_one_is_published(session, company):
    c = approved(session, extra={"complained_unit_id": unit(session, "嘉兴食品厂/加工一班").id})
    attribute(session, c, "team", "嘉兴食品厂/加工一班")
    with pytest.raises(NotAllowed):
        step(session, "handler", c, "propose")
    with pytest.raises(InvalidInput) as err:          # another amount needs a reason
        step(session, "quality", c, "propose", amount="150")
    assert err.value.field == "reason"
    p = step(session, "quality", c, "propose", amount="150", reason="班组已主动整改，酌情减轻")
    assert (p.proposed_amount, p.amount, p.status, p.version) == (Decimal("200"), Decimal("150.00"), "pending", 1)
    with pytest.raises(InvalidInput):
        step(session, "quality", c, "propose")          # one per complaint
    with pytest.raises(NotAllowed):
        step(session, "prod_head", p.complaint, "approve", 1)
    with pytest.raises(Stale):                                          # a stale card
        step(session, "manager", p.complaint, "approve", 0)
    step(session, "manager", p.complaint, "approve", 1)
    assert p.status == "approved" and [e.kind for e in p.events] == ["proposed", "approved"]
    serious = approved(session, severity="serious", extra={"complained_unit_id": unit(session, "嘉兴食品厂").id})
    attribute(session, serious, "factory", "嘉兴食品厂")
    q = step(session, "quality", serious, "propose")
    assert q.amount == Decimal("1000")                                  # serious × factory
    step(session, "manager", q.complaint, "approve", q.version)
    assert q.status == "published" and [e.kind for e in q.events][-1] == "published"


def test_one_appeal_by_the_penalised_unit_decided_by_the_manager(session, company):
    c = approved(session, extra={"complained_unit_id": unit(session, "嘉兴食品厂/加工一班").id})
    attribute(session, c, "team", "嘉兴食品厂/加工一班")
    p = step(session, "quality", c, "propose")
    with pytest.raises(InvalidInput):                                   # not approved yet
        step(session, "jx_team", p.complaint, "appeal", p.version, appeal="已整改")
    step(session, "manager", p.complaint, "approve", p.version)
    with pytest.raises(NotAllowed):                                     # another factory's head
        step(session, "ks_head", p.complaint, "appeal", p.version, appeal="不服")
    step(session, "jx_team", p.complaint, "appeal", p.version, appeal="头发来自包装环节，非本班组")
    with pytest.raises(InvalidInput):                                   # only once
        step(session, "jx_head", p.complaint, "appeal", p.version, appeal="再次申诉")
    with pytest.raises(InvalidInput):
        step(session, "manager", p.complaint, "reduced", p.version, amount="300",
                                comment="减免")                           # not lower
    step(session, "manager", p.complaint, "reduced", p.version, amount="100",
                            comment="证据部分成立，减半")
    assert (p.amount, p.appeal_decision) == (Decimal("100.00"), "reduced")
    assert [e.kind for e in p.events] == ["proposed", "approved", "appealed", "appeal_reduced"]
    assert [e.version for e in p.events] == [1, 2, 3, 4] and p.version == 4
    session.commit()
