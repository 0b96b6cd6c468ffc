"""Stage names and labels (SPEC §3.1). The transitions arrive with the state machine."""
from enum import StrEnum

from domain.errors import N_


class Stage(StrEnum):
    NEW = "new"
    INVESTIGATING = "investigating"
    PENDING_APPROVAL = "pending_approval"
    EXECUTING = "executing"
    VERIFYING = "verifying"
    FOLLOW_UP = "follow_up"
    CLOSED = "closed"
    ANSWERED = "answered"          # inquiries (§3.3)
    ACKNOWLEDGED = "acknowledged"  # suggestions (§3.3)


STAGE_LABELS = {
    Stage.NEW: N_("待分派"),
    Stage.INVESTIGATING: N_("调查处理中"),
    Stage.PENDING_APPROVAL: N_("待审批"),
    Stage.EXECUTING: N_("执行答复中"),
    Stage.VERIFYING: N_("待验证"),
    Stage.FOLLOW_UP: N_("待回访"),
    Stage.CLOSED: N_("已结案"),
    Stage.ANSWERED: N_("已答复"),
    Stage.ACKNOWLEDGED: N_("已记录建议"),
}
