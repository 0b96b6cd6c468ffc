"""Property-based (hypothesis, stateful): random actions by random users never reach an illegal
state, never skip a guard, never let a complained-against person investigate or approve, and
every change has its event."""
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, settings, strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from sqlalchemy import func, select

from domain import intake, workflow
from domain.errors import DomainError
from domain.stages import Stage
from models.complaint import Category, Complaint, StageCount
from models.org import OrgUnit
from models.user import User

TZ = ZoneInfo("Asia/Shanghai")
USERS = ["receiver", "receiver2", "quality", "manager", "vp", "handler", "handler2", "prod_head", "sales2",
         "cs1", "admin"]
DEPTS = ["生产部", "销售部", "市场部"]


def fields_for(action, draw_ok, units, users, complaint):
    """Plausible fields for `action` (sometimes wrong, to exercise the guards)."""
    ok = draw_ok
    if action in ("dispatch", "reassign"):
        return {"unit_id": units[ok % len(units)], "investigator_id": users.get("handler2") if ok % 3 == 0 else None}
    if action in ("not_responsible", "not_ours"):
        return {"valid": ok % 2 == 0, "other_party": "carrier", "explanation": "说明" if ok % 4 else ""}
    if action == "transfer_inquiry":
        return {"unit_id": units[ok % len(units)]}
    if action == "correct":
        return {"customer_name": f"顾客{ok % 3}", "product_name": "月饼" if ok % 2 else "", "reason": "更正" if ok % 5 else ""}
    if action == "hand_back":
        return {"reason": "不归本部门" if ok % 3 else ""}
    if action == "add_action":
        return {"kind": "corrective", "text": "培训", "due": date(2027, 1, 31) if ok % 4 else date(2020, 1, 1)}
    if action == "log_contact":
        return {"method": "phone", "reached": True, "note": "已联系"}
    if action == "propose":
        return {"findings": "查明", "root_cause": "原因" if ok % 5 else "", "cause_category": "man", "kind": "refund",
                "amount": ["50", "3000", "-1"][ok % 3], "text": "退款"}
    if action in ("approve",):
        return {}
    if action == "reject":
        return {"comment": "再沟通" if ok % 3 else ""}
    if action == "answer":
        return {"method": "phone", "accepted": ok % 3 != 0, "note": "顾客意见"}
    if action == "verify":
        verdict = ["effective", "ineffective", "waived"][ok % 3]
        return {"verdicts": {a.id: (verdict, "原因") for a in complaint.actions}}
    if action == "survey":
        return {"score": [5, 4, 2, 1, 3][ok % 5]}
    if action in ("contact_failed",):
        return {"note": "无人接听"}
    if action == "close":
        return {"note": "结案说明" if ok % 3 else ""}
    if action == "reopen":
        return {"comment": "顾客再次来电"}
    if action == "withdraw":
        return {"reason": "撤诉"}
    if action == "mark_duplicate":
        return {"duplicate_of": None}
    if action == "answer_inquiry":
        return {"method": "phone", "note": "答复"}
    if action in ("acknowledge", "close_short"):
        return {"note": "答复"}
    if action == "pause":
        return {"reason": "等顾客补充小票" if ok % 4 else ""}
    if action == "resume":
        return {"note": "材料已到"}
    return {}


class Loop(RuleBasedStateMachine):
    complaints = Bundle("complaints")

    session = company = None     # set by the test

    def __init__(self):
        super().__init__()
        # Each example starts from the demo company alone, as hypothesis expects examples to be
        # independent (and the invariants then scan this example's complaints only).
        self.session.close()
        self.company.reload()
        self.users = {u.username: u for u in self.session.scalars(select(User))}
        self.user_ids = {name: u.id for name, u in self.users.items()}
        self.units = [self.session.scalar(select(OrgUnit.id).where(OrgUnit.name == d)) for d in DEPTS]
        self.category = self.session.scalar(select(Category.id).where(Category.name == "异物"))
        self.now = datetime(2026, 11, 1, tzinfo=timezone.utc)

    def tick(self):
        self.now += timedelta(minutes=7)
        return self.now

    @rule(target=complaints, clerk=st.sampled_from(["receiver", "receiver2", "cs1"]),
          kind=st.sampled_from(["complaint", "complaint", "complaint", "inquiry", "suggestion"]),
          severity=st.sampled_from(["minor", "general", "serious", "major"]),
          against=st.sampled_from([None, "handler2", "prod_head"]))
    def register(self, clerk, kind, severity, against):
        extra = {"complained_user_id": self.user_ids[against]} if against else {}
        c = intake.register(self.session, self.users[clerk], intake.IntakeData(
            customer_name="顾客", customer_phone="13900000000", content="内容", category_id=self.category,
            severity=severity, type=kind, extra=extra), now=self.tick(), tz=TZ).complaint
        self.session.commit()
        return c.id

    @rule(ident=complaints, action=st.sampled_from(sorted(workflow.ACTIONS)),
          who=st.sampled_from(USERS), ok=st.integers(0, 59))
    def attempt(self, ident, action, who, ok):
        c = self.session.get(Complaint, ident)
        actor = self.users[who]
        before = (c.stage, c.version, len(c.events))
        allowed = workflow.refusal(self.session, actor, c, action) is None
        try:
            workflow.act(self.session, actor, c, action,
                         workflow.command(action, **fields_for(action, ok, self.units, self.user_ids, c)),
                         version=c.version, now=self.tick())
        except DomainError:
            self.session.rollback()
            c = self.session.get(Complaint, ident)
            assert (c.stage, c.version, len(c.events)) == before   # a refusal changes nothing
            return
        self.session.commit()
        assert allowed, f"{who} did {action} although refusal() said no"
        c = self.session.get(Complaint, ident)
        event = c.events[-1]
        assert event.kind == action and event.actor_id == actor.id and event.version == c.version == before[1] + 1
        t = workflow.ACTIONS[action]
        assert before[0] in t.sources and c.type in t.types
        if c.stage != before[0]:
            assert c.stage in t.targets and event.from_stage == before[0] and event.to_stage == c.stage
        if action in ("propose", "log_contact", "answer", "not_ours"):
            assert actor.id != c.complained_user_id
        if action == "approve":
            assert actor.id != c.complained_user_id and actor.id != workflow.last_actor(c, "propose")
            assert c.approval_level != "manager" or actor.has_role("manager")
        if action == "dispatch":
            assert c.investigator_id != c.complained_user_id or c.investigator_id is None
        if c.stage == Stage.CLOSED and c.close_reason in ("resolved", "decided", "no_contact") \
                and c.type == "complaint":
            assert workflow.closure_problem(c) is None

    @invariant()
    def stage_counts_match(self):
        actual = dict(self.session.execute(select(Complaint.stage, func.count()).group_by(Complaint.stage)).all())
        kept = {r.stage: r.n for r in self.session.scalars(select(StageCount)) if r.n}
        assert kept == actual

    @invariant()
    def decisions_are_flagged_exactly_when_due(self):
        for c in self.session.scalars(select(Complaint)):
            due = c.stage == Stage.FOLLOW_UP and (
                (c.satisfaction is not None and c.satisfaction <= 2) or c.failed_contacts >= 3)
            assert c.needs_decision == due, (c.number, c.stage, c.satisfaction, c.failed_contacts)

    @invariant()
    def closed_complaints_run_no_clock(self):
        from models.sla import SlaClock
        running_closed = self.session.scalar(select(func.count()).select_from(SlaClock).join(
            Complaint, Complaint.id == SlaClock.complaint_id).where(
            Complaint.stage == Stage.CLOSED, SlaClock.stopped_at.is_(None)))
        assert running_closed == 0

    @invariant()
    def a_paused_complaint_has_every_running_clock_paused_and_silent(self):
        from models.sla import SlaClock
        rows = self.session.execute(select(Complaint.number, Complaint.paused_at, SlaClock.kind, SlaClock.paused_at,
                                         SlaClock.next_alert_at, SlaClock.alert_level)
                                  .join(SlaClock, SlaClock.complaint_id == Complaint.id)
                                  .where(SlaClock.stopped_at.is_(None))).all()
        for number, c_paused, kind, k_paused, next_alert, level in rows:
            assert (k_paused is not None) == (c_paused is not None), (number, kind)
            assert next_alert is None if k_paused else (next_alert is not None or level == 3)
        assert not self.session.scalar(select(func.count()).select_from(Complaint).where(
            Complaint.paused_at.is_not(None), Complaint.stage == Stage.CLOSED))

    @invariant()
    def every_change_has_its_event(self):
        for c in self.session.scalars(select(Complaint)):
            assert c.stage in {s.value for s in Stage}
            assert len(c.events) == c.version


def test_random_action_sequences_keep_the_rules(session, company):
    Loop.session, Loop.company = session, company
    run_state_machine_as_test(Loop, settings=settings(
        max_examples=25, stateful_step_count=30, deadline=None, derandomize=True,
        suppress_health_check=list(HealthCheck)))
