"""The customer's own steps (SPEC §7), taken through their links without an account: rating the
handling and confirming the closure (谁投诉谁关闭, seed 000) and adding information (补充材料).

The customer acts as `Customer(complaint_id)`: an actor with the one pseudo-role CUSTOMER, whose
scope is that single complaint (domain.scoping) and who has no user id (the timeline shows 顾客).
These are ordinary registered actions: `act` runs the same guards, writes the event, tells the
first responder and moves the clocks."""
from __future__ import annotations

from dataclasses import dataclass

from domain.errors import InvalidInput, N_
from domain.fields import Fields
from domain.notify import notify, users_with
from domain.roles import Role
from domain.text import checked
from domain.workflow.closing import closure_problem
from domain.workflow.core import ALL_TYPES, OPEN, Action, Outcome, S, end_pause, register

CUSTOMER = "customer"   # a pseudo-role: never a user's (domain.roles), only the link holder's
CUSTOMER_EVENTS = frozenset({"customer_survey", "customer_closed", "customer_adds"})
# Events the customer's actions write under a kind of their own (Outcome.event).
EVENT_LABELS = {"customer_closed": N_("顾客评价并确认结案"), "customer_survey": N_("顾客评价")}


def by_customer(event) -> bool:
    """Whether the customer took this timeline step (their link, or the online form)."""
    return event.actor_id is None and (event.kind in CUSTOMER_EVENTS or (event.changes or {}).get("by") == "customer")


class Customer:
    """The complainant holding a link to complaint `complaint_id`."""
    id = None
    org_unit_id = None
    is_head = False
    roles = frozenset({CUSTOMER})
    display_name = N_("顾客")

    def __init__(self, complaint_id: int):
        self.customer_of = complaint_id

    def has_role(self, *roles) -> bool:
        return CUSTOMER in roles


@dataclass(frozen=True)
class RateFields(Fields):
    score: int | None = None
    comment: str | None = None
    confirm: bool = False          # the customer confirms the complaint may be closed


@register
class CustomerSurvey(Action):
    """Score 1–5 and a comment through the survey link. Satisfied (≥ 3) and confirmed: closed, the
    customer the closing actor. Dissatisfied (≤ 2), or not confirmed: quality or the manager
    decides, as after a phone survey."""
    name, label, who = "customer_survey", N_("顾客评价"), N_("顾客")
    sources, targets, roles, fields = {S.FOLLOW_UP}, [S.CLOSED, S.FOLLOW_UP], {CUSTOMER}, RateFields
    on_the_road, button = False, "side"

    def guard(self, session, actor, c):
        if c.satisfaction is not None:
            return N_("这条投诉已经评价过了，谢谢您。")
        return None

    def apply(self, session, actor, c, f, now):
        score = f.score
        if not isinstance(score, int) or isinstance(score, bool) or not 1 <= score <= 5:
            raise InvalidInput(N_("请选择 1 到 5 分。"), field="score")
        c.satisfaction, c.satisfaction_comment = score, checked(f.comment, "comment", 2000)
        changes = {"score": score, "confirmed": bool(f.confirm)}
        if score >= 3 and f.confirm and closure_problem(c) is None:
            c.close_reason, c.closed_at, c.needs_decision = "customer", now, False
            return Outcome(S.CLOSED, changes, c.satisfaction_comment, event="customer_closed")
        c.needs_decision = True
        notify(session, users_with(session, Role.QUALITY) + users_with(session, Role.MANAGER), c,
               "dissatisfied" if score <= 2 else "customer_not_closed", now, actor)
        return Outcome(S.FOLLOW_UP, changes, c.satisfaction_comment, event="customer_survey")

    def clock_event(self, c):
        return "survey"


@dataclass(frozen=True)
class AddFields(Fields):
    text: str | None = None
    upload_token: str | None = None


@register
class CustomerAdds(Action):
    """补充材料: text and photos from the customer while the complaint is open. The handler hears of
    it; a clock paused for "waiting for the customer" runs again."""
    name, label, who = "customer_adds", N_("顾客补充材料"), N_("顾客")
    sources, targets, types, roles, fields = OPEN, (), ALL_TYPES, {CUSTOMER}, AddFields
    on_the_road, button = False, "side"

    def apply(self, session, actor, c, f, now):
        from domain.workflow.files import claim_uploads, listing
        text = checked(f.text, "text", 2000)
        names = claim_uploads(session, actor, c, f.upload_token)
        if not text and not names:
            raise InvalidInput(N_("请写下要补充的内容，或选择照片。"), field="text")
        changes = {"files": names} if names else {}
        if f.upload_token:
            changes["form"] = f.upload_token          # the same form twice adds once (domain.portal.steps)
        if c.paused_at is not None:
            changes["resumed_after_minutes"] = end_pause(session, c, now)
        people = [c.investigator_id, c.first_responder_id]
        if c.responsible_unit_id is not None:
            people += users_with(session, Role.HANDLER, c.responsible_unit_id, heads=True)
        if c.stage == S.NEW:
            people += users_with(session, Role.QUALITY)
        notify(session, people, c, "customer_added", now, actor)
        return Outcome(None, changes or None, listing(names, text))

    def clock_event(self, c):
        return None
