"""The monthly complaint meeting 客诉专题会 (SPEC §3.5): its agenda (agenda.py), its steps (steps.py;
the minutes' in minutes.py) and those of the actions it decides (actions.py), who sees what
(queries.py), telling people (tell.py) and the reminders of the minute sweep (remind.py)."""
from domain.meetings.agenda import propose
from domain.meetings.queries import (STATE_LABELS, action_or_none, all_open, is_late, meeting_or_none, meetings_for,
                                     my_actions, state, to_sign, to_verify)
from domain.meetings.remind import remind, target
from domain.meetings import minutes  # noqa: F401 — registers the minutes' steps
from domain.meetings.actions import ACTION_STEPS, act_on_action, owns
from domain.meetings.steps import (EVENT_LABELS, SOURCE_LABELS, STATUS_LABELS, STEPS, act, attendee_ids, open_meeting,
                                   signed_by, title_for, unsigned)

__all__ = ["ACTION_STEPS", "EVENT_LABELS", "SOURCE_LABELS", "STATE_LABELS", "STATUS_LABELS", "STEPS", "act",
           "act_on_action", "action_or_none", "all_open", "attendee_ids", "is_late", "meeting_or_none", "meetings_for",
           "my_actions", "open_meeting", "owns", "propose", "remind", "signed_by", "state", "target", "title_for",
           "to_sign", "to_verify", "unsigned"]
