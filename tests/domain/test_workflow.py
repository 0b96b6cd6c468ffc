"""The closed loop through domain.workflow: every path, guards, impartiality, optimistic lock."""
import threading
from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from domain import workflow
from domain.errors import InvalidInput, NotAllowed
from domain.workflow import Stale
from models.complaint import Complaint, ComplaintEvent, Notification, StageCount
from models.user import User
from tests.builders import NOW, PROPOSAL, act, make_complaint, register, unit, user


def dispatch(session, c, dept="生产部", investigator=None):
    return act(session, "quality", c, "dispatch", unit_id=unit(session, dept).id,
               investigator_id=user(session, investigator).id if investigator else None)


def propose(session, c, who="handler2", **changes):
    return act(session, who, c, "propose", **{**PROPOSAL, **changes})


def add_action(session, c, who="handler2"):
    return act(session, who, c, "add_action", kind="corrective", text="全员培训发网佩戴",
               owner_unit_id=unit(session, "生产部").id, due=datetime(2026, 12, 31).date())


def stage_counts(session):
    return {r.stage: r.n for r in session.scalars(select(StageCount)) if r.n}


def test_the_whole_loop_with_an_action(session, company):
    c = register(session)
    dispatch(session, c, investigator="handler2")
    assert c.stage == "investigating" and c.responsible_unit.name == "生产部"
    add_action(session, c)
    propose(session, c)
    assert c.stage == "pending_approval" and c.approval_level == "head"
    act(session, "prod_head", c, "approve")
    assert c.stage == "executing" and c.approved_by.username == "prod_head"
    act(session, "handler2", c, "answer", method="phone", accepted=True)
    assert c.stage == "verifying"
    act(session, "quality", c, "verify", verdicts={c.actions[0].id: ("effective", "")})
    assert c.stage == "follow_up"
    act(session, "receiver", c, "survey", score=5, comment="满意")
    assert c.stage == "closed" and c.close_reason == "resolved"
    kinds = [e.kind for e in c.events]
    assert kinds == ["registered", "dispatch", "add_action", "propose", "approve", "answer", "verify", "survey"]
    assert [e.version for e in c.events] == list(range(1, 9)) and c.version == 8
    assert stage_counts(session) == {"closed": 1}
    # The first responder was told of every stage change made by others.
    notes = session.scalars(select(Notification.kind).where(Notification.user_id == user(session, "receiver").id)).all()
    assert notes.count("stage:investigating") == 1 and "stage:follow_up" in notes and "stage:closed" not in notes


def test_rejection_not_accepted_and_ineffective_go_back_to_investigation(session, company):
    c = register(session, severity="serious")
    dispatch(session, c)
    add_action(session, c)
    propose(session, c)
    assert c.approval_level == "manager"  # serious → the manager
    with pytest.raises(NotAllowed):
        act(session, "prod_head", c, "approve")
    with pytest.raises(InvalidInput):
        act(session, "manager", c, "reject", comment="  ")
    act(session, "manager", c, "reject", comment="金额偏低，请与顾客再沟通")
    assert c.stage == "investigating"
    propose(session, c, amount="200")
    act(session, "manager", c, "approve")
    act(session, "handler2", c, "answer", method="phone", accepted=False, note="顾客要求赔偿 500 元")
    assert c.stage == "investigating" and c.customer_accepted is False
    propose(session, c, amount="500", kind="compensation")
    act(session, "manager", c, "approve")
    act(session, "receiver", c, "answer", method="visit", accepted=True)   # the first responder may answer
    act(session, "quality", c, "verify", verdicts={c.actions[0].id: ("ineffective", "抽查仍有人未戴发网")})
    assert c.stage == "investigating" and c.actions[0].verdict == "ineffective"   # actions kept


def test_not_responsible_withdraw_duplicate_and_reopen(session, company):
    a = register(session)
    act(session, "quality", a, "not_responsible", valid=True, other_party="carrier",
        explanation="运输途中由快递公司损坏，已协助索赔")
    assert a.stage == "follow_up" and a.company_responsible is False
    act(session, "receiver", a, "survey", score=4)
    assert a.stage == "closed"
    act(session, "manager", a, "reopen", comment="顾客再次来电")
    assert a.stage == "new"
    b = register(session)
    act(session, "receiver", b, "withdraw", reason="顾客表示不再追究")
    assert b.stage == "closed" and b.close_reason == "withdrawn"
    c = register(session)
    with pytest.raises(InvalidInput):
        act(session, "quality", c, "mark_duplicate", duplicate_of=c.number)
    act(session, "quality", c, "mark_duplicate", duplicate_of=a.number)
    assert c.stage == "closed" and c.duplicate_of_id == a.id


def test_dissatisfied_and_failed_contacts(session, company):
    c = register(session)
    act(session, "quality", c, "not_responsible", valid=False, explanation="商品在保质期内，口味属正常差异")
    with pytest.raises(NotAllowed):
        act(session, "quality", c, "close", note="结案")       # nothing to decide yet
    act(session, "receiver", c, "survey", score=1, comment="不接受")
    assert c.stage == "follow_up" and c.satisfaction == 1
    assert user(session, "manager").id in session.scalars(select(Notification.user_id).where(
        Notification.kind == "dissatisfied")).all()
    act(session, "manager", c, "close", note="解释合理，顾客意见已记录")
    assert c.stage == "closed" and c.close_reason == "decided"
    d = register(session)
    act(session, "quality", d, "not_responsible", valid=False, explanation="说明")
    for _ in range(3):
        act(session, "receiver", d, "contact_failed", note="无人接听")
    act(session, "quality", d, "close", note="三次联系不上")
    assert d.close_reason == "no_contact" and d.failed_contacts == 3


def test_inquiry_and_suggestion_take_the_short_path(session, company):
    q = register(session, type="inquiry")
    assert {t.name for t in workflow.available(session, user(session, "quality"), q)} == \
        {"answer_inquiry", "transfer_inquiry", "withdraw", "mark_duplicate", "pause", "attach", "correct"}
    act(session, "receiver", q, "answer_inquiry", method="phone", note="营业时间 9:00–21:00")
    act(session, "receiver", q, "close_short")
    assert q.stage == "closed"
    s = register(session, type="suggestion")
    with pytest.raises(NotAllowed):
        act(session, "quality", s, "dispatch", unit_id=unit(session, "生产部").id)
    act(session, "quality", s, "acknowledge", note="感谢建议，已转市场部")
    assert s.stage == "acknowledged"


def test_roles_and_scope_are_checked(session, company):
    c = register(session)
    with pytest.raises(NotAllowed):
        workflow.act(session, user(session, "receiver"), c, "dispatch", workflow.command("dispatch", unit_id=unit(session, "生产部").id),
            version=c.version, now=NOW)
    dispatch(session, c, "生产部")
    with pytest.raises(NotAllowed):
        propose(session, c, who="handler")             # 销售部: not the responsible department
    with pytest.raises(NotAllowed):
        act(session, "receiver2", c, "withdraw", reason="x")   # another store: cannot even see it
    propose(session, c)
    with pytest.raises(NotAllowed):
        act(session, "handler2", c, "approve")          # not a head, not a manager
    with pytest.raises(NotAllowed):
        act(session, "receiver", c, "approve")


def test_impartiality(session, company):
    prod = unit(session, "生产部")
    c = register(session, extra={"complained_unit_id": prod.id})
    with pytest.raises(InvalidInput) as err:
        dispatch(session, c, "生产部")
    assert "公正" in err.value.message
    d = register(session, extra={"complained_user_id": user(session, "handler2").id})
    with pytest.raises(InvalidInput):
        dispatch(session, d, "生产部", investigator="handler2")
    dispatch(session, d, "生产部")
    with pytest.raises(NotAllowed):
        propose(session, d, who="handler2")            # the complained-against person cannot investigate
    propose(session, d, who="prod_head")
    with pytest.raises(NotAllowed):
        act(session, "prod_head", d, "approve")         # nor approve their own proposal


def test_a_stale_form_is_refused_with_what_changed(session, company):
    c = register(session)
    loaded = c.version
    dispatch(session, c)
    with pytest.raises(Stale) as err:
        workflow.act(session, user(session, "manager"), c, "dispatch",
                     workflow.command("dispatch", unit_id=unit(session, "销售部").id), version=loaded, now=NOW)
    assert [e.kind for e in err.value.events] == ["dispatch"]


def test_forced_major_cannot_be_downgraded_and_counts_follow(session, company):
    c = register(session, safety=True)
    assert user(session, "manager").id in session.scalars(select(Notification.user_id).where(
        Notification.kind == "major_registered")).all()
    with pytest.raises(InvalidInput):
        act(session, "quality", c, "dispatch", unit_id=unit(session, "生产部").id, severity="general")
    assert stage_counts(session) == {"new": 1}
    dispatch(session, c)
    assert stage_counts(session) == {"investigating": 1}
    assert session.scalar(select(func.count()).select_from(ComplaintEvent)) == 2


def test_two_approvals_at_once_one_wins(session, company):
    c = make_complaint(session, "pending_approval", severity="serious")
    session.commit()
    ident, version = c.id, c.version
    results, barrier = [], threading.Barrier(2)

    def approve(username):
        with Session(session.get_bind()) as own:
            actor = own.scalar(select(User).where(User.username == username))
            complaint = own.get(Complaint, ident)
            barrier.wait()
            try:
                workflow.act(own, actor, complaint, "approve", version=version, now=NOW)
                own.commit()
                results.append("ok")
            except Exception as err:  # noqa: BLE001 — the loser's error is what we check
                own.rollback()
                results.append(workflow.conflict_message(err) or repr(err))

    threads = [threading.Thread(target=approve, args=(u,)) for u in ("manager", "vp")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(results) == sorted(["ok", workflow.CONFLICT]), results
    session.expire_all()
    c = session.get(Complaint, ident)
    assert c.stage == "executing" and [e.kind for e in c.events].count("approve") == 1


@pytest.mark.parametrize("cause", sorted(workflow.CAUSES))
def test_every_cause_category_and_a_logged_contact_fit_the_columns(session, company, cause):
    c = make_complaint(session, "investigating")
    act(session, "handler2", c, "log_contact", method="phone", reached=True, note="已致电顾客")
    act(session, "handler2", c, "propose", findings="查明", root_cause="原因", cause_category=cause, kind="apology",
        text="致歉")
    session.flush()
    assert c.cause_category == cause and c.contacts[0].purpose == "investigation"


def test_the_head_approval_limit_is_an_admin_setting(session, company):
    from domain import settings
    settings.set_head_approval_limit(session, user(session, "admin"), "100", now=NOW)
    c = make_complaint(session, "pending_approval", proposal={"amount": "150"})
    assert c.approval_level == "manager"    # above the limit: the manager approves
    d = make_complaint(session, "pending_approval", proposal={"amount": "80"})
    assert d.approval_level == "head"
    with pytest.raises(NotAllowed):
        settings.set_head_approval_limit(session, user(session, "quality"), "5000", now=NOW)


def test_clocks_start_and_stop_with_the_loop(session, company):
    from models.sla import SlaClock

    def running(c):
        return sorted(k.kind for k in session.scalars(select(SlaClock).where(
            SlaClock.complaint_id == c.id, SlaClock.stopped_at.is_(None))))
    c = register(session)
    assert running(c) == ["answer", "close", "dispatch", "first_contact"]
    answer = session.scalar(select(SlaClock).where(SlaClock.complaint_id == c.id, SlaClock.kind == "answer"))
    assert (answer.amount, answer.unit, answer.preset) == (5, "working_days", "generic") and answer.source
    # Registered Monday 2026-11-23 11:00 Beijing time: 5 working days → Monday 11-30, 11:00.
    assert answer.deadline == datetime(2026, 11, 30, 3, 0, tzinfo=timezone.utc)
    dispatch(session, c)
    assert running(c) == ["answer", "close", "first_contact", "initial_cause", "proposal"]
    act(session, "handler2", c, "log_contact", method="phone", reached=True)
    propose(session, c)
    assert running(c) == ["answer", "approval", "close"]
    act(session, "prod_head", c, "approve")
    act(session, "handler2", c, "answer", method="phone", accepted=True)
    assert running(c) == ["close", "follow_up"]
    act(session, "receiver", c, "survey", score=4)
    assert running(c) == []
    act(session, "quality", c, "reopen", comment="顾客又来了")
    assert running(c) == ["answer", "close"]


def test_settled_on_the_spot_runs_only_follow_up_and_close(session, company):
    from models.sla import SlaClock
    c = register(session, severity="minor", spot_action="当场换货", spot_accepted=True)
    kinds = sorted(k.kind for k in session.scalars(select(SlaClock).where(SlaClock.complaint_id == c.id)))
    assert kinds == ["close", "follow_up"]

