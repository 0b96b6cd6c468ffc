"""The closed loop's machinery (SPEC §3): what an action is, the registry, the general guards
and `act` — the only way a complaint's stage changes.

An action is one object (a subclass of `Action`, registered with `@register`): its name and
label, the stages it starts from and may lead to, the roles and complaint types it is for, its
typed fields (a frozen dataclass with `from_form`), its own guard, `apply` (which returns an
`Outcome`), its clock event and its form template. `act` runs the general guards — scope, type
and stage, role, the form's version — then the action's guard and `apply`, and writes the rest:
stage and stage counts, the event on the timeline, the first responder's notice, the clocks.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from sqlalchemy import update

from domain import clocks, ledger
from domain.errors import CONFLICT_MESSAGE, N_, NotAllowed, Stale
from domain.notify import notify
from domain.portal import outbound
from domain.roles import Role
from domain.scoping import complaint_or_none, covers_unit
from domain.stages import Stage
from domain.fields import Fields
from models.complaint import Complaint, ComplaintEvent, StageCount

S = Stage
DISPATCHERS = frozenset({Role.QUALITY, Role.MANAGER})
OPEN = frozenset(s for s in Stage if s is not Stage.CLOSED)
COMPLAINT, INQUIRY, SUGGESTION = "complaint", "inquiry", "suggestion"
ALL_TYPES = frozenset({COMPLAINT, INQUIRY, SUGGESTION})
CONFLICT = CONFLICT_MESSAGE


# --- what an action returns ------------------------------------------------------------

@dataclass(frozen=True)
class Outcome:
    """What an action did: the stage it leads to (None: stays), what changed (for the timeline),
    the comment shown with the event, the event's kind when not the action's name, and the kind
    of the first responder's notice when the stage changes, when not the generic progress notice
    ("stage:<stage>") — a rejection tells them it was a rejection; and the message the customer
    is sent, if any ("answer"; entering follow-up always sends the survey link instead)."""
    to_stage: str | None = None
    changes: dict | None = None
    comment: str | None = None
    event: str | None = None
    notice: str | None = None
    tell: str | None = None        # a message to the customer (domain.portal.outbound): "answer"


# --- actions and their registry ----------------------------------------------------------

class Action:
    name: ClassVar[str]
    label: ClassVar[str]
    who: ClassVar[str]                       # for the flow table and "who acts next"
    sources: ClassVar[frozenset]
    targets: ClassVar[tuple] = ()            # possible next stages (the first is the usual one)
    roles: ClassVar[frozenset]
    types: ClassVar[frozenset] = frozenset({COMPLAINT})
    fields: ClassVar[type[Fields]] = Fields
    # "next step" on the road (who acts next is whoever takes it); side steps are not.
    on_the_road: ClassVar[bool] = True
    # The record page's button: "main", "side", "warn", or "one_tap" (a POST without a form:
    # approve). The one highlighted is the expected step (`expected`), whatever its button.
    button: ClassVar[str] = "main"

    @property
    def template(self) -> str:
        return f"complaints/actions/_{self.name}.html"

    def guard(self, session, actor, complaint) -> str | None:
        """Why `actor` may not take this action on `complaint` (beyond stage, type and role)."""
        return None

    def apply(self, session, actor, complaint, fields, now: datetime) -> Outcome:
        raise NotImplementedError

    def clock_event(self, complaint) -> str | None:
        """The event the clocks hear after this action (domain.clocks.on_event)."""
        return self.name

    def form_context(self, session, actor, complaint) -> dict:
        """What the action's form needs besides the complaint (choices to offer)."""
        return {}

    def initial(self, session, complaint) -> dict:
        """Form values to start from."""
        return {}

    def waiting_label(self, complaint) -> str:
        return self.who

    def expected_on(self, complaint) -> bool:
        """Whether this action, when the actor may take it, is the step expected next on
        `complaint` (the record page highlights it): an action on the road to another stage."""
        return self.on_the_road and bool(self.targets)


ACTIONS: dict[str, Action] = {}


def register(cls: type[Action]) -> type[Action]:
    cls.sources, cls.roles, cls.types = frozenset(cls.sources), frozenset(cls.roles), frozenset(cls.types)
    cls.targets = tuple(cls.targets)
    ACTIONS[cls.name] = cls()
    return cls


def command(name: str, **values) -> Fields:
    """The typed fields of action `name` (TypeError on a field it does not have)."""
    return ACTIONS[name].fields(**values)


# --- who is who on a complaint ---------------------------------------------------------------

def handles(session, actor, complaint) -> bool:
    """A handler of the responsible department (or a head above it)."""
    return (actor.has_role(Role.HANDLER) and complaint.responsible_unit_id is not None
            and covers_unit(session, actor, complaint.responsible_unit_id))


def receiver_side(session, actor, complaint) -> bool:
    return complaint.first_responder_id == actor.id or (
        actor.has_role(Role.RECEIVER) and covers_unit(session, actor, complaint.receiving_unit_id))


def complained_against(actor, complaint) -> bool:
    return actor.id == complaint.complained_user_id or (
        complaint.complained_unit_id is not None and actor.org_unit_id == complaint.complained_unit_id)


def dispatcher(actor) -> bool:
    return bool(actor.roles & DISPATCHERS)


def last_actor(complaint, kind) -> int | None:
    for event in reversed(complaint.events):
        if event.kind == kind:
            return event.actor_id
    return None


# --- the general guards and the one way to act ---------------------------------------------------

def refusal(session, actor, complaint, name) -> str | None:
    """Why `actor` may not take action `name` now (a message id), or None when they may."""
    a = ACTIONS.get(name)
    if a is None or complaint.type not in a.types or complaint.stage not in a.sources:
        return N_("这条投诉现在不能做这个操作。")
    if not actor.roles & a.roles:
        return N_("您的角色不能做这个操作。")
    return a.guard(session, actor, complaint)


def available(session, actor, complaint) -> list[Action]:
    """The actions `actor` may take on `complaint` now (the record page shows these)."""
    return [a for name, a in ACTIONS.items() if refusal(session, actor, complaint, name) is None]


def expected_among(complaint, actions) -> Action | None:
    """Of `actions` (those an actor may take now, in the registry's order), the expected next
    step: the first on the road from the complaint's stage; side steps, steps back (reassign,
    reject, reopen) and "not ours" never are."""
    return next((a for a in actions if complaint.stage in a.sources and a.expected_on(complaint)), None)


def in_button_order(complaint, actions) -> list[Action]:
    """`actions` as the record page shows them: the expected step first, the steps that end or
    undo the work (withdraw, duplicate, reject — button "warn") last, the rest in between."""
    first = expected_among(complaint, actions)
    return sorted(actions, key=lambda a: 0 if a is first else 2 if a.button == "warn" else 1)


def expected(session, actor, complaint) -> Action | None:
    """The step `actor` is expected to take next on `complaint`, or None."""
    return expected_among(complaint, available(session, actor, complaint))


def waiting_for(complaint) -> Action | None:
    """The action on the road from the complaint's stage: whoever takes it acts next."""
    for a in ACTIONS.values():
        if a.on_the_road and a.targets and complaint.stage in a.sources and complaint.type in a.types:
            return a
    return None


def act(session, actor, complaint, name: str, fields: Fields | None = None, *, version: int,
        now: datetime) -> Complaint:
    """Take action `name` on `complaint` as `actor` with its typed `fields`. Raises NotAllowed,
    InvalidInput or Stale; the caller commits (or rolls back)."""
    if complaint_or_none(session, actor, complaint.id) is None:
        raise NotAllowed(N_("找不到这条投诉，或者它不在您的查看范围内。"))
    if version != complaint.version:
        raise Stale([e for e in complaint.events if (e.version or 0) > version])
    why = refusal(session, actor, complaint, name)
    if why:
        raise NotAllowed(why)
    action = ACTIONS[name]
    fields = action.fields() if fields is None else fields
    if not isinstance(fields, action.fields):
        raise TypeError(f"{name} takes {action.fields.__name__}, not {type(fields).__name__}")
    before = complaint.stage
    counted = ledger.contribution(complaint)
    outcome = action.apply(session, actor, complaint, fields, now)
    if outcome.to_stage and outcome.to_stage != before:
        complaint.stage = outcome.to_stage
        bump_stage_count(session, before, outcome.to_stage)
    complaint.updated_at = now
    complaint.version += 1  # with version_id_col the UPDATE also checks the old value
    session.add(ComplaintEvent(complaint=complaint, at=now, actor_id=actor.id, kind=outcome.event or name,
                               from_stage=before, to_stage=complaint.stage if complaint.stage != before else None,
                               changes=outcome.changes or None, comment=outcome.comment, version=complaint.version))
    if complaint.stage != before:
        notify(session, [complaint.first_responder_id], complaint, outcome.notice or "stage:" + complaint.stage,
               now, actor)
        if complaint.paused_at is not None:
            end_pause(session, complaint, now)   # the work moved on: the clocks run again
    event = "closed" if complaint.stage == S.CLOSED and before != S.CLOSED else action.clock_event(complaint)
    if event:
        clocks.on_event(session, complaint, event, now)
    if complaint.stage == S.FOLLOW_UP and before != S.FOLLOW_UP and complaint.type == COMPLAINT:
        outbound.queue(session, complaint, "survey", now)     # carries the answer too
    elif outcome.tell:
        outbound.queue(session, complaint, outcome.tell, now)
    ledger.track(session, complaint, counted)     # stage, closing, score, repeat, clocks: the ledger's counts
    return complaint


def end_pause(session, complaint, now) -> int:
    """Stop waiting for the customer: the clocks move on by the time waited. Returns minutes."""
    minutes = max(0, int((now - complaint.paused_at).total_seconds() // 60))
    clocks.resume(session, complaint, now)
    complaint.paused_at, complaint.pause_reason = None, None
    return minutes


def bump_stage_count(session, from_stage: str | None, to_stage: str | None) -> None:
    if from_stage == to_stage:
        return
    from models import upsert_insert
    insert = upsert_insert(session)
    for stage, delta in ((from_stage, -1), (to_stage, 1)):
        if stage is None:
            continue
        session.execute(insert(StageCount).values(stage=stage, n=0).on_conflict_do_nothing(index_elements=["stage"]))
        session.execute(update(StageCount).where(StageCount.stage == stage).values(n=StageCount.n + delta))
