"""The closed loop through domain.workflow: every path, guards, impartiality, optimistic lock."""
import threading
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from domain import intake, workflow
from domain.errors import InvalidInput, NotAllowed
from domain.workflow import Stale, act
from models import db
from models.complaint import (Category, Complaint, ComplaintEvent, Notification, StageCount)
from models.org import OrgUnit
from models.user import User

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 23, 3, 0, tzinfo=timezone.utc)


def user(username):
    return db.session.scalar(select(User).where(User.username == username))


def unit(name):
    return db.session.scalar(select(OrgUnit).where(OrgUnit.name == name))


def new_complaint(clerk="receiver", **kw):
    data = dict(customer_name="王女士", customer_phone="13812345678", content="月饼里有头发",
                category_id=db.session.scalar(select(Category.id).where(Category.name == "异物")),
                severity="general")
    data.update(kw)
    return intake.register(db.session, user(clerk), intake.IntakeData(**data), now=NOW, tz=TZ).complaint


def do(username, c, action, **fields):
    return act(db.session, user(username), c, action, workflow.command(action, **fields), version=c.version, now=NOW)


def dispatch(c, dept="生产部", investigator=None):
    return do("quality", c, "dispatch", unit_id=unit(dept).id,
              investigator_id=user(investigator).id if investigator else None)


def propose(c, who="handler2", amount="68", kind="refund"):
    return do(who, c, "propose", findings="生产线头发网破损", root_cause="员工未按规定佩戴发网",
              cause_category="man", kind=kind, amount=amount, text="退款 68 元并致歉")


def add_action(c, who="handler2"):
    return do(who, c, "add_action", kind="corrective", text="全员培训发网佩戴", owner_unit_id=unit("生产部").id,
              due=date(2026, 12, 31))


def stage_counts():
    return {r.stage: r.n for r in db.session.scalars(select(StageCount)) if r.n}


def test_the_whole_loop_with_an_action(demo):
    c = new_complaint()
    dispatch(c, investigator="handler2")
    assert c.stage == "investigating" and c.responsible_unit.name == "生产部"
    add_action(c)
    propose(c)
    assert c.stage == "pending_approval" and c.approval_level == "head"
    do("prod_head", c, "approve")
    assert c.stage == "executing" and c.approved_by.username == "prod_head"
    do("handler2", c, "answer", method="phone", accepted=True)
    assert c.stage == "verifying"
    do("quality", c, "verify", verdicts={c.actions[0].id: ("effective", "")})
    assert c.stage == "follow_up"
    do("receiver", c, "survey", score=5, comment="满意")
    assert c.stage == "closed" and c.close_reason == "resolved"
    kinds = [e.kind for e in c.events]
    assert kinds == ["registered", "dispatch", "add_action", "propose", "approve", "answer", "verify", "survey"]
    assert [e.version for e in c.events] == list(range(1, 9)) and c.version == 8
    assert stage_counts() == {"closed": 1}
    # The first responder was told of every stage change made by others.
    notes = db.session.scalars(select(Notification.kind).where(Notification.user_id == user("receiver").id)).all()
    assert notes.count("stage:investigating") == 1 and "stage:follow_up" in notes and "stage:closed" not in notes


def test_rejection_not_accepted_and_ineffective_go_back_to_investigation(demo):
    c = new_complaint(severity="serious")
    dispatch(c)
    add_action(c)
    propose(c)
    assert c.approval_level == "manager"  # serious → the manager
    with pytest.raises(NotAllowed):
        do("prod_head", c, "approve")
    with pytest.raises(InvalidInput):
        do("manager", c, "reject", comment="  ")
    do("manager", c, "reject", comment="金额偏低，请与顾客再沟通")
    assert c.stage == "investigating"
    propose(c, amount="200")
    do("manager", c, "approve")
    do("handler2", c, "answer", method="phone", accepted=False, note="顾客要求赔偿 500 元")
    assert c.stage == "investigating" and c.customer_accepted is False
    propose(c, amount="500", kind="compensation")
    do("manager", c, "approve")
    do("receiver", c, "answer", method="visit", accepted=True)   # the first responder may answer
    do("quality", c, "verify", verdicts={c.actions[0].id: ("ineffective", "抽查仍有人未戴发网")})
    assert c.stage == "investigating" and c.actions[0].verdict == "ineffective"   # actions kept


def test_not_responsible_withdraw_duplicate_and_reopen(demo):
    a = new_complaint()
    do("quality", a, "not_responsible", valid=True, other_party="carrier", explanation="运输途中由快递公司损坏，已协助索赔")
    assert a.stage == "follow_up" and a.company_responsible is False
    do("receiver", a, "survey", score=4)
    assert a.stage == "closed"
    do("manager", a, "reopen", comment="顾客再次来电")
    assert a.stage == "new"
    b = new_complaint()
    do("receiver", b, "withdraw", reason="顾客表示不再追究")
    assert b.stage == "closed" and b.close_reason == "withdrawn"
    c = new_complaint()
    with pytest.raises(InvalidInput):
        do("quality", c, "mark_duplicate", duplicate_of=c.number)
    do("quality", c, "mark_duplicate", duplicate_of=a.number)
    assert c.stage == "closed" and c.duplicate_of_id == a.id


def test_dissatisfied_and_failed_contacts(demo):
    c = new_complaint()
    do("quality", c, "not_responsible", valid=False, explanation="商品在保质期内，口味属正常差异")
    with pytest.raises(NotAllowed):
        do("quality", c, "close", note="结案")       # nothing to decide yet
    do("receiver", c, "survey", score=1, comment="不接受")
    assert c.stage == "follow_up" and c.satisfaction == 1
    assert user("manager").id in db.session.scalars(select(Notification.user_id).where(
        Notification.kind == "dissatisfied")).all()
    do("manager", c, "close", note="解释合理，顾客意见已记录")
    assert c.stage == "closed" and c.close_reason == "decided"
    d = new_complaint()
    do("quality", d, "not_responsible", valid=False, explanation="说明")
    for _ in range(3):
        do("receiver", d, "contact_failed", note="无人接听")
    do("quality", d, "close", note="三次联系不上")
    assert d.close_reason == "no_contact" and d.failed_contacts == 3


def test_inquiry_and_suggestion_take_the_short_path(demo):
    q = new_complaint(type="inquiry")
    assert {t.name for t in workflow.available(db.session, user("quality"), q)} == \
        {"answer_inquiry", "withdraw", "mark_duplicate", "pause"}
    do("receiver", q, "answer_inquiry", method="phone", note="营业时间 9:00–21:00")
    do("receiver", q, "close_short")
    assert q.stage == "closed"
    s = new_complaint(type="suggestion")
    with pytest.raises(NotAllowed):
        do("quality", s, "dispatch", unit_id=unit("生产部").id)
    do("quality", s, "acknowledge", note="感谢建议，已转市场部")
    assert s.stage == "acknowledged"


def test_roles_and_scope_are_checked(demo):
    c = new_complaint()
    with pytest.raises(NotAllowed):
        act(db.session, user("receiver"), c, "dispatch", workflow.command("dispatch", unit_id=unit("生产部").id),
            version=c.version, now=NOW)
    dispatch(c, "生产部")
    with pytest.raises(NotAllowed):
        propose(c, who="handler")             # 销售部: not the responsible department
    with pytest.raises(NotAllowed):
        do("receiver2", c, "withdraw", reason="x")   # another store: cannot even see it
    propose(c)
    with pytest.raises(NotAllowed):
        do("handler2", c, "approve")          # not a head, not a manager
    with pytest.raises(NotAllowed):
        do("receiver", c, "approve")


def test_impartiality(demo):
    prod = unit("生产部")
    c = new_complaint(extra={"complained_unit_id": prod.id})
    with pytest.raises(InvalidInput) as err:
        dispatch(c, "生产部")
    assert "公正" in err.value.message
    d = new_complaint(extra={"complained_user_id": user("handler2").id})
    with pytest.raises(InvalidInput):
        dispatch(d, "生产部", investigator="handler2")
    dispatch(d, "生产部")
    with pytest.raises(NotAllowed):
        propose(d, who="handler2")            # the complained-against person cannot investigate
    propose(d, who="prod_head")
    with pytest.raises(NotAllowed):
        do("prod_head", d, "approve")         # nor approve their own proposal


def test_a_stale_form_is_refused_with_what_changed(demo):
    c = new_complaint()
    loaded = c.version
    dispatch(c)
    with pytest.raises(Stale) as err:
        act(db.session, user("manager"), c, "dispatch", workflow.command("dispatch", unit_id=unit("销售部").id),
            version=loaded, now=NOW)
    assert [e.kind for e in err.value.events] == ["dispatch"]


def test_forced_major_cannot_be_downgraded_and_counts_follow(demo):
    c = new_complaint(safety=True)
    assert user("manager").id in db.session.scalars(select(Notification.user_id).where(
        Notification.kind == "major_registered")).all()
    with pytest.raises(InvalidInput):
        do("quality", c, "dispatch", unit_id=unit("生产部").id, severity="general")
    assert stage_counts() == {"new": 1}
    dispatch(c)
    assert stage_counts() == {"investigating": 1}
    assert db.session.scalar(select(func.count()).select_from(ComplaintEvent)) == 2


def test_two_approvals_at_once_one_wins(demo, app):
    c = new_complaint(severity="serious")
    dispatch(c)
    propose(c)
    db.session.commit()
    ident, version = c.id, c.version
    results, barrier = [], threading.Barrier(2)

    def approve(username):
        with app.app_context():
            with Session(db.engine) as session:
                actor = session.scalar(select(User).where(User.username == username))
                complaint = session.get(Complaint, ident)
                barrier.wait()
                try:
                    act(session, actor, complaint, "approve", version=version, now=NOW)
                    session.commit()
                    results.append("ok")
                except Exception as err:  # noqa: BLE001 — the loser's error is what we check
                    session.rollback()
                    results.append(workflow.conflict_message(err) or repr(err))

    threads = [threading.Thread(target=approve, args=(u,)) for u in ("manager", "vp")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(results) == sorted(["ok", workflow.CONFLICT]), results
    db.session.expire_all()
    c = db.session.get(Complaint, ident)
    assert c.stage == "executing" and [e.kind for e in c.events].count("approve") == 1


@pytest.mark.parametrize("cause", sorted(workflow.CAUSES))
def test_every_cause_category_and_a_logged_contact_fit_the_columns(demo, cause):
    c = new_complaint()
    dispatch(c)
    do("handler2", c, "log_contact", method="phone", reached=True, note="已致电顾客")
    do("handler2", c, "propose", findings="查明", root_cause="原因", cause_category=cause, kind="apology",
       text="致歉")
    db.session.flush()
    assert c.cause_category == cause and c.contacts[0].purpose == "investigation"


def test_the_head_approval_limit_is_an_admin_setting(demo):
    from domain import settings
    settings.set_head_approval_limit(db.session, user("admin"), "100", now=NOW)
    c = new_complaint()
    dispatch(c)
    propose(c, amount="150")
    assert c.approval_level == "manager"    # above the limit: the manager approves
    d = new_complaint()
    dispatch(d)
    propose(d, amount="80")
    assert d.approval_level == "head"
    with pytest.raises(NotAllowed):
        settings.set_head_approval_limit(db.session, user("quality"), "5000", now=NOW)


def test_notices_page_lists_and_marks_read(demo, app):
    from tests.conftest import Web
    c = new_complaint()
    dispatch(c)
    db.session.commit()
    web = Web(app.test_client())
    web.login("receiver")
    home = web.get("/receiver/").get_data(as_text=True)
    assert 'class="bell-n">1<' in home
    page = web.get("/complaints/notices").get_data(as_text=True)
    assert c.number in page and "调查处理中" in page
    assert 'class="bell-n"' not in web.get("/receiver/").get_data(as_text=True)


def test_clocks_start_and_stop_with_the_loop(demo):
    from models.sla import SlaClock

    def running(c):
        return sorted(k.kind for k in db.session.scalars(select(SlaClock).where(
            SlaClock.complaint_id == c.id, SlaClock.stopped_at.is_(None))))
    c = new_complaint()
    assert running(c) == ["answer", "close", "dispatch", "first_contact"]
    answer = db.session.scalar(select(SlaClock).where(SlaClock.complaint_id == c.id, SlaClock.kind == "answer"))
    assert (answer.amount, answer.unit, answer.preset) == (5, "working_days", "generic") and answer.source
    # Registered Monday 2026-11-23 11:00 Beijing time: 5 working days → Monday 11-30, 11:00.
    assert answer.deadline == datetime(2026, 11, 30, 3, 0, tzinfo=timezone.utc)
    dispatch(c)
    assert running(c) == ["answer", "close", "first_contact", "initial_cause", "proposal"]
    do("handler2", c, "log_contact", method="phone", reached=True)
    propose(c)
    assert running(c) == ["answer", "approval", "close"]
    do("prod_head", c, "approve")
    do("handler2", c, "answer", method="phone", accepted=True)
    assert running(c) == ["close", "follow_up"]
    do("receiver", c, "survey", score=4)
    assert running(c) == []
    do("quality", c, "reopen", comment="顾客又来了")
    assert running(c) == ["answer", "close"]


def test_settled_on_the_spot_runs_only_follow_up_and_close(demo):
    from models.sla import SlaClock
    c = new_complaint(severity="minor", spot_action="当场换货", spot_accepted=True)
    kinds = sorted(k.kind for k in db.session.scalars(select(SlaClock).where(SlaClock.complaint_id == c.id)))
    assert kinds == ["close", "follow_up"]
