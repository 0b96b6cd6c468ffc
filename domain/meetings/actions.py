"""The steps of the actions the monthly meeting decides (domain.meetings.steps explains the pattern):
`act_on_action(session, actor, action, step, fields, now=…)` is the only way one changes.

An action: open (its owner — a person, or the heads of a unit — sees it, is reminded the day before
it is due and when it is late; quality is told when it is late) → reported done by the owner →
verified by quality: effective / waived end it; ineffective sends it back with a new due date."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from domain.errors import InvalidInput, N_, NotAllowed
from domain.fields import Fields
from domain.meetings.steps import Step, event
from domain.meetings.tell import owners, tell
from domain.roles import Role
from domain.text import checked
from domain.workflow.closing import record_verdict
from domain.workflow.investigation import action_due

ACTION_STEPS: dict[str, Step] = {}


def owns(session, actor, a) -> bool:
    """The action's owner: its person, or someone of its unit (a head: of a unit above it too)."""
    from domain.scoping import covers_unit
    if a.owner_user_id is not None and actor.id == a.owner_user_id:
        return True
    if a.owner_unit_id is None or actor.has_role(Role.QUALITY, Role.MANAGER):
        return False
    return actor.org_unit_id == a.owner_unit_id or (actor.is_head and covers_unit(session, actor, a.owner_unit_id))


def act_on_action(session, actor, a, step: str, fields: Fields | None = None, *, now: datetime):
    """Take `step` ("done" or "verify") on the meeting's action `a`. Raises NotAllowed or
    InvalidInput; the caller commits."""
    s = ACTION_STEPS[step]
    fields = s.fields() if fields is None else fields
    if type(fields) is not s.fields:
        raise TypeError(f"{step} takes {s.fields.__name__}, not {type(fields).__name__}")
    if a.meeting_item_id is None:
        raise NotAllowed(N_("这项措施属于投诉，请在投诉页面处理。"))
    if not s.may(session, actor, a):
        raise NotAllowed(s.refused)
    return s.apply(session, actor, a, fields, now)


def _action_step(cls):
    ACTION_STEPS[cls.name] = cls()
    return cls


@dataclass(frozen=True)
class DoneFields(Fields):
    note: str | None = None


@_action_step
class Done(Step):
    """The owner reports the action carried out (what was done); quality is asked to verify."""
    name = "done"
    fields = DoneFields
    refused = N_("只有措施的负责人或负责单位可以报告完成。")

    def may(self, session, actor, a):
        return owns(session, actor, a)

    def apply(self, session, actor, a, f, now):
        if a.verdict is not None or a.done_at is not None:
            raise InvalidInput(N_("这项措施已经报告完成。"), field="note")
        a.done_note = checked(f.note, "note", 1000, required=True, message=N_("请写明做了什么、结果如何。"))
        a.done_at = now
        from domain.notify import users_with
        meeting = a.meeting_item.meeting
        tell(session, users_with(session, Role.QUALITY), "meeting:action_done",
             f"cap:{a.id}:done:{now.strftime('%Y%m%d%H%M%S')}", now, actor)
        event(session, meeting, actor, "action_done", now, a, note=a.done_note[:80])
        return a


@dataclass(frozen=True)
class ActionVerdictFields(Fields):
    verdict: str | None = None
    reason: str | None = None
    due: date | None = None          # ineffective: the new due date


@_action_step
class VerifyAction(Step):
    """Quality's verdict, as for a complaint's actions (domain.workflow.closing.record_verdict):
    effective or waived end it; ineffective sends it back to the owner with a new due date."""
    name = "verify"
    fields = ActionVerdictFields
    refused = N_("只有品管可以验证措施效果。")

    def apply(self, session, actor, a, f, now):
        if a.verdict in ("effective", "waived"):
            raise InvalidInput(N_("这项措施已经验证过了。"), field="verdict")
        if f.verdict != "waived" and a.done_at is None:
            raise InvalidInput(N_("负责人还没有报告完成；可以先催办，或写明原因免验证。"), field="verdict")
        due = action_due(f.due, now) if f.verdict == "ineffective" else None
        record_verdict(a, f.verdict, f.reason, actor, now)
        meeting = a.meeting_item.meeting
        event(session, meeting, actor, "action_verified", now, a, verdict=f.verdict, reason=(a.verdict_reason or "")[:80] or None)
        if f.verdict == "ineffective":
            # Back to the owner: open again, with the new due date (its reminders start over).
            a.verdict, a.done_at, a.done, a.due = None, None, False, due
            tell(session, owners(session, a), "meeting:action_back", f"cap:{a.id}:back:{due.isoformat()}", now, actor)
            event(session, meeting, actor, "action_reopened", now, a, due=due.isoformat())
        return a
