"""待审批 (SPEC §3 stage 3): the general manager approves or rejects the resolution; for small
general cases the head of the responsible department does."""
from __future__ import annotations

from decimal import Decimal

from domain.errors import N_
from domain.notify import notify, users_with
from domain.roles import Role
from domain.settings import DEFAULT_HEAD_APPROVAL_LIMIT
from domain.severity import Severity
from domain.text import checked
from domain.fields import Comment
from domain.workflow.core import Action, Outcome, S, handles, last_actor, register


def approval_level(c, head_limit: Decimal = DEFAULT_HEAD_APPROVAL_LIMIT) -> str:
    """Major/serious or an amount above the limit → the manager; otherwise the head."""
    if c.severity in (Severity.MAJOR, Severity.SERIOUS) or (c.proposal_amount or 0) > head_limit:
        return "manager"
    return "head"


class Decision(Action):
    sources, roles = {S.PENDING_APPROVAL}, {Role.MANAGER, Role.HANDLER}
    who = N_("总经理（小额一般投诉：部门负责人）")
    fields = Comment

    def guard(self, session, actor, c):
        if actor.id == c.complained_user_id:
            return N_("您是被投诉人，按公正原则不能审批这条投诉。")
        if last_actor(c, "propose") == actor.id:
            return N_("方案由您提交，须由另一人审批。")
        if c.approval_level == "manager" and not actor.has_role(Role.MANAGER):
            return N_("这条投诉须总经理审批。")
        if not actor.has_role(Role.MANAGER) and not (actor.is_head and handles(session, actor, c)):
            return N_("只有总经理或责任部门负责人可以审批。")
        return None


@register
class Approve(Decision):
    name, label, targets, button = "approve", N_("批准"), [S.EXECUTING], "one_tap"

    def apply(self, session, actor, c, f, now):
        c.approved_by_id, c.approved_at = actor.id, now
        notify(session, [c.investigator_id] + users_with(session, Role.HANDLER, c.responsible_unit_id, heads=True),
               c, "approved", now, actor)
        return Outcome(S.EXECUTING, {"level": c.approval_level}, checked(f.comment, "comment", 2000))

    def waiting_label(self, c):
        return N_("部门负责人") if c.approval_level == "head" else N_("总经理")


@register
class Reject(Decision):
    name, label, targets = "reject", N_("驳回"), [S.INVESTIGATING]
    on_the_road, button = False, "warn"

    def apply(self, session, actor, c, f, now):
        comment = checked(f.comment, "comment", 2000, required=True, message=N_("驳回时请写明原因。"))
        # The investigator, the proposer and (through act, instead of a progress notice) the
        # first responder are told it was rejected.
        notify(session, [u for u in (c.investigator_id, last_actor(c, "propose")) if u != c.first_responder_id],
               c, "rejected", now, actor)
        return Outcome(S.INVESTIGATING, None, comment, notice="rejected")


def last_rejection(c):
    """The latest rejection of a proposal (its event: comment, actor, time), or None."""
    return next((e for e in reversed(c.events) if e.kind == "reject"), None)


def rejection(c):
    """The rejection the complaint is back in the investigation for, or None — once the
    department proposes again (or the complaint moves on in any way), None."""
    if c.stage != S.INVESTIGATING:
        return None
    last_move = next((e for e in reversed(c.events) if e.to_stage), None)
    return last_move if last_move is not None and last_move.kind == "reject" else None


def proposal_state(c) -> str | None:
    """Where the proposal on record stands, for the record page: "approved", "pending"
    (待审批), "rejected" (the latest decision on it was a rejection), or None (no decision to show)."""
    if c.approved_at is not None:
        return "approved"
    if c.stage == S.PENDING_APPROVAL:
        return "pending"
    decisions = [e.kind for e in c.events if e.kind in ("propose", "reject")]
    return "rejected" if decisions and decisions[-1] == "reject" else None
