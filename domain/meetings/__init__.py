"""The monthly complaint meeting 客诉专题会 (SPEC §3.5): its agenda (agenda.py), its steps and those
of the actions it decides (steps.py), who sees what (queries.py), telling people (tell.py) and the
reminders of the minute sweep (remind.py)."""
from domain.meetings.agenda import propose
from domain.meetings.queries import (STATE_LABELS, action_or_none, all_open, is_late, meeting_or_none, meetings_for,
                                     my_actions, state, to_sign, to_verify)
from domain.meetings.remind import remind, target
from domain.meetings.steps import (ACTION_STEPS, EVENT_LABELS, SOURCE_LABELS, STATUS_LABELS, STEPS, act, act_on_action,
                                   attendee_ids, open_meeting, owns, signed_by, title_for, unsigned)

__all__ = ["ACTION_STEPS", "EVENT_LABELS", "SOURCE_LABELS", "STATE_LABELS", "STATUS_LABELS", "STEPS", "act",
           "act_on_action", "action_or_none", "all_open", "attendee_ids", "is_late", "meeting_or_none", "meetings_for",
           "my_actions", "open_meeting", "owns", "propose", "remind", "signed_by", "state", "target", "title_for",
           "to_sign", "to_verify", "unsigned"]
