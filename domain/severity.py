"""Severity (SPEC §2). The receiver picks one; "major" is forced by any of the seed 002 (bank)
triggers: food safety / health / personal safety, an amount involved or claimed at or above the
threshold (default 50,000 CNY, admin-editable), a public figure or the media, a sensitive hot
topic, or reputational risk. The reasons are kept so that the form can say why."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from domain.errors import N_


class Severity(StrEnum):
    MINOR = "minor"        # 轻微: settled on the spot, no compensation
    GENERAL = "general"    # 一般
    SERIOUS = "serious"    # 严重: cannot be settled on the spot
    MAJOR = "major"        # 重大: the manager is told at once and approves any resolution


SEVERITY_LABELS = {
    Severity.MINOR: N_("轻微"),
    Severity.GENERAL: N_("一般"),
    Severity.SERIOUS: N_("严重"),
    Severity.MAJOR: N_("重大"),
}

DEFAULT_MAJOR_THRESHOLD = Decimal("50000")

REASONS = {
    "safety": N_("涉及食品安全、健康或人身安全"),
    "amount": N_("涉及金额达到 %(threshold)s 元"),
    "media": N_("涉及公众人物或媒体"),
    "sensitive": N_("涉及敏感热点话题"),
    "reputation": N_("有声誉风险"),
}


@dataclass(frozen=True)
class Flags:
    safety: bool = False
    media: bool = False
    sensitive: bool = False
    reputation: bool = False
    amount_involved: Decimal | None = None
    amount_claimed: Decimal | None = None


def major_reasons(flags: Flags, threshold: Decimal = DEFAULT_MAJOR_THRESHOLD) -> list[str]:
    """Keys of REASONS that force "major", in a stable order."""
    reasons = []
    if flags.safety:
        reasons.append("safety")
    amounts = [a for a in (flags.amount_involved, flags.amount_claimed) if a is not None]
    if any(a >= threshold for a in amounts):
        reasons.append("amount")
    if flags.media:
        reasons.append("media")
    if flags.sensitive:
        reasons.append("sensitive")
    if flags.reputation:
        reasons.append("reputation")
    return reasons


def decide(chosen: Severity | str, flags: Flags,
           threshold: Decimal = DEFAULT_MAJOR_THRESHOLD) -> tuple[Severity, list[str]]:
    """The severity to store and the reasons it was forced to major (empty if not forced)."""
    reasons = major_reasons(flags, threshold)
    return (Severity.MAJOR, reasons) if reasons else (Severity(chosen), [])
