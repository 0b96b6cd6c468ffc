"""The closed loop (SPEC §3). `act(session, actor, complaint, name, fields, version=…, now=…)` is
the only way a complaint's stage changes; views, jobs, the CLI, the demo data and the tests call
it. Each action is one object registered in `ACTIONS` (domain/workflow/core.py explains the
parts); the modules below hold them, grouped by the stage they work in — importing them here
registers them, in the order the record page and the flow table show them."""
from domain.errors import CONFLICT_MESSAGE as CONFLICT, Stale, conflict_message
from domain.workflow.choices import (ACTION_KINDS, ANSWER_METHODS, CAUSES, FAILED_CONTACTS_TO_CLOSE,
                                     OTHER_PARTIES, PROPOSAL_KINDS, VERDICTS)
from domain.workflow.core import (ACTIONS, ALL_TYPES, COMPLAINT, DISPATCHERS, INQUIRY, OPEN, SUGGESTION, Action,
                                  Fields, Outcome, act, available, bump_stage_count, command, expected,
                                  expected_among, in_button_order, last_actor, refusal, register, waiting_for)
from domain.workflow import new, investigation, approval, closing, anytime, short_path, files  # noqa: E402,F401 — registers
from domain.workflow import corrections, customer  # noqa: E402,F401 — registers
from domain.workflow.approval import approval_level, last_rejection, proposal_state, rejection
from domain.workflow.closing import closure_problem
from domain.workflow.corrections import correction_rows

__all__ = ["ACTIONS", "ACTION_KINDS", "ALL_TYPES", "ANSWER_METHODS", "Action", "CAUSES", "COMPLAINT", "CONFLICT",
           "DISPATCHERS", "FAILED_CONTACTS_TO_CLOSE", "Fields", "INQUIRY", "OPEN",
           "OTHER_PARTIES", "Outcome", "PROPOSAL_KINDS", "SUGGESTION", "Stale", "VERDICTS", "act", "approval_level",
           "available", "bump_stage_count", "closure_problem", "command", "conflict_message", "correction_rows", "expected",
           "expected_among", "in_button_order", "last_actor", "last_rejection", "proposal_state", "refusal", "register", "rejection",
           "waiting_for"]
