"""The meeting's proposed agenda (SPEC §3.5; seed 000 5.1.3.2: 频次较高或者紧急程度较高的投诉): the
month's N most frequent top-level categories (N is the admin's `meeting_top_n`; ties at the edge
included — exactly the categories the monthly report marks frequent on its matrix) and its high-urgency and major complaints — two indexed
queries over the month's complaints."""
from __future__ import annotations

from sqlalchemy import func, or_, select
from sqlalchemy.orm import aliased

from domain.monthly import months
from domain.monthly.figures import is_frequent, top_n
from domain.settings import company_tz
from models.complaint import Category, Complaint

MAX_COMPLAINTS = 30      # high-urgency and major complaints proposed (the most serious first)


def propose(session, month: str) -> list[dict]:
    """The proposed items of `month` ("YYYY-MM"), in agenda order: frequent categories (most
    complaints first), then major complaints, then high-urgency ones."""
    first = months.parse(month)
    start, end = months.bounds(first, company_tz())
    in_month = (Complaint.created_at >= start, Complaint.created_at < end, Complaint.type == "complaint")
    parent = aliased(Category)
    top = func.coalesce(parent.id, Category.id)
    counts = session.execute(
        select(top, func.count()).select_from(Complaint)
        .join(Category, Category.id == Complaint.category_id)
        .outerjoin(parent, parent.id == Category.parent_id)
        .where(*in_month).group_by(top)).all()
    ranked, n_top = [n for _c, n in counts], top_n(session)
    frequent = sorted(((cat, n) for cat, n in counts if is_frequent(n, ranked, n_top)), key=lambda r: (-r[1], r[0]))
    names = dict(session.execute(select(Category.id, Category.name).where(Category.id.in_([c for c, _n in frequent]))).all())
    items = [{"source": "frequent", "category_id": cat, "count": n, "title": names.get(cat, "—")} for cat, n in frequent]
    serious = session.execute(
        select(Complaint.id, Complaint.number, Complaint.severity, Complaint.urgency, func.substr(Complaint.content, 1, 60))
        .where(*in_month, or_(Complaint.severity == "major", Complaint.urgency == "high"))
        .order_by((Complaint.severity == "major").desc(), Complaint.created_at).limit(MAX_COMPLAINTS)).all()
    for cid, number, severity, _urgency, content in serious:
        items.append({"source": "major" if severity == "major" else "urgent", "complaint_id": cid,
                      "title": f"{number} {' '.join((content or '').split())}"[:200]})
    return items
