"""Penalties (SPEC §6, seed 001 六.3): the admin's table and what it proposes (rules), a penalty's
steps from proposal to appeal (steps), and the totals for a period (report)."""
from domain.penalties.report import BY_LABELS, EFFECTIVE, listing, report
from domain.penalties.rules import (DEFAULT_RULES, DEFAULT_SURCHARGES, MAX_AMOUNT, RULES, SEVERITIES,
                                    SURCHARGE_LABELS, SURCHARGES, Proposal, propose, ran_over, rules, set_rules,
                                    surcharges)
from domain.penalties.steps import (APPEAL_DECISIONS, EVENT_LABELS, SERIOUS, STATUS_LABELS, STEPS, Publication, act,
                                    concerns, penalty_of, publication, responsible_people)

__all__ = ["APPEAL_DECISIONS", "BY_LABELS", "DEFAULT_RULES", "DEFAULT_SURCHARGES", "EFFECTIVE", "EVENT_LABELS",
           "MAX_AMOUNT", "Proposal", "Publication", "RULES", "SERIOUS", "SEVERITIES", "STATUS_LABELS", "STEPS",
           "SURCHARGES", "SURCHARGE_LABELS", "act",
           "concerns", "listing", "penalty_of", "propose", "publication", "ran_over", "report", "responsible_people",
           "rules", "set_rules", "surcharges"]
