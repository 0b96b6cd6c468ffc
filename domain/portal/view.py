"""What the customer may see of their complaint (SPEC §7) — the one place that decides it, for the
progress page, the survey page and the messages.

Only: the number, what kind of matter it is, when it was received, the stage in plain words, the
next date they can expect something, and the answer once the company has given it (the approved
text, an explanation, an inquiry's answer, what was done at the counter). Never a member of staff,
an internal note, a cause, a department, or an amount not yet approved — the fields below are all
there is, and the tests scan every customer page and message for the rest.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from domain.errors import N_
from domain.stages import Stage
from models.complaint import Complaint, ComplaintEvent
from models.sla import Outbox, SlaClock

S = Stage
KIND_WORDS = {"complaint": N_("投诉"), "inquiry": N_("咨询"), "suggestion": N_("建议")}
STAGE_WORDS = {
    S.NEW: N_("已收到，正在核实"),
    S.INVESTIGATING: N_("正在调查处理"),
    S.PENDING_APPROVAL: N_("处理方案正在审核"),
    S.EXECUTING: N_("处理方案已确定，正在落实并答复您"),
    S.VERIFYING: N_("已答复您，正在核查整改效果"),
    S.FOLLOW_UP: N_("已处理，请您评价"),
    S.ANSWERED: N_("已答复"),
    S.ACKNOWLEDGED: N_("已收到您的建议"),
    S.CLOSED: N_("已结案"),
}
CLOSED_WORDS = {"withdrawn": N_("已撤回"), "duplicate": N_("已与您的另一条投诉合并处理")}
# The next thing the customer can expect, by the clock that promises it (SPEC §4.1).
EXPECT = (("answer", N_("预计答复日期")), ("follow_up", N_("预计回访日期")), ("close", N_("预计结案日期")))


@dataclass(frozen=True)
class CustomerView:
    number: str
    kind: str                     # msgid
    received_at: datetime
    stage: str                    # msgid: the stage in plain words
    open: bool
    waiting_for_customer: bool    # the clocks are paused for them
    expect_label: str | None      # msgid
    expect_at: datetime | None
    answer: str | None            # what the company answered, once it has
    rated: bool                   # a satisfaction score is on record
    can_rate: bool                # waiting for the customer's rating (the progress page offers it)
    survey_sent: bool             # … and a survey link went out by SMS or e-mail
    additions: int                # how many times the customer added information
    expect_passed: bool = False   # the expected date has gone by (we say sorry, not nothing)


def answer_text(c: Complaint) -> str | None:
    """The answer the customer has been given, or None while there is none."""
    if c.spot_action and c.spot_accepted:
        return c.spot_action
    if c.type != "complaint":
        return c.answer_note if c.answered_at is not None else None
    if c.company_responsible is False and c.explanation and c.stage in (S.FOLLOW_UP, S.CLOSED):
        return c.explanation
    if c.answered_at is not None and c.customer_accepted and c.approved_at is not None:
        return c.proposal_text
    return None


def expectation(session, c: Complaint) -> tuple[str | None, datetime | None]:
    if c.stage == S.CLOSED or c.paused_at is not None:
        return None, None
    running = dict(session.execute(select(SlaClock.kind, SlaClock.deadline).where(
        SlaClock.complaint_id == c.id, SlaClock.stopped_at.is_(None))).all())
    for kind, label in EXPECT:
        if kind in running:
            return label, running[kind]
    return None, None


def customer_view(session, c: Complaint, now: datetime | None = None) -> CustomerView:
    stage = STAGE_WORDS.get(c.stage, N_("正在处理"))
    if c.stage == S.CLOSED and c.close_reason in CLOSED_WORDS:
        stage = CLOSED_WORDS[c.close_reason]
    label, at = expectation(session, c)
    count = session.scalar(select(func.count()).select_from(ComplaintEvent).where(
        ComplaintEvent.complaint_id == c.id, ComplaintEvent.kind == "customer_adds"))
    can_rate = c.stage == S.FOLLOW_UP and c.type == "complaint" and c.satisfaction is None
    sent = can_rate and session.scalar(select(func.count()).select_from(Outbox).where(
        Outbox.complaint_id == c.id, Outbox.kind == "customer:survey", Outbox.status != "failed")) > 0
    return CustomerView(number=c.number, kind=KIND_WORDS.get(c.type, N_("投诉")), received_at=c.created_at,
                        stage=stage, open=c.stage != S.CLOSED, waiting_for_customer=c.paused_at is not None,
                        expect_label=label, expect_at=at, answer=answer_text(c), rated=c.satisfaction is not None,
                        can_rate=can_rate, survey_sent=bool(sent), additions=count,
                        expect_passed=at is not None and now is not None and at < now)
