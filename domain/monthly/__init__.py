"""The monthly report (SPEC §8; seed 000 5.1.3.2 频次×紧急程度, seed 002 第七章 月度报告).

`figures(session, viewer, month, now=…)` — the month's figures within what `viewer` may see, as
JSON-ready data (figures.py says what each one counts; timeline.py the time per stage, units.py
branches and the rate per 10,000 orders, common.py the SQL they share); `make_month(session,
month, actor, now=…)` — the stored snapshot, made and announced once (snapshot.py); `run_due` —
the scheduled job's step on the first working day of a month; months.py — "YYYY-MM" months in
company time.

Every count is of complaints (type 投诉) received in the month; each one has a register filter
(domain.registry) that selects exactly the complaints it counts, so the page links every figure
to them.
"""
from domain.monthly import months
from domain.monthly.figures import TOP_N_SETTING, VERSION, figures, top_n
from domain.monthly.snapshot import (NOTICE, READERS, announce, due_month, find, first_working_day, generate,
                                     make_month, recipients, run_due)

__all__ = ["NOTICE", "READERS", "TOP_N_SETTING", "VERSION", "announce", "due_month", "figures", "find", "first_working_day",
           "generate", "make_month", "months", "recipients", "run_due", "top_n"]
