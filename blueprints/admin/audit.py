"""The audit trail (SPEC §9): every sign-in, permission refusal, change of settings and reveal
of personal data, newest first, by kind."""
from flask import request
from sqlalchemy import select

from blueprints._args import bounded_int
from blueprints._render import render
from blueprints.admin import bp
from domain import audit
from models import db
from models.audit import AuditEvent

AUDIT_PER_PAGE = 100


@bp.route("/audit")
def audit_log():
    kind = request.args.get("kind", "")
    before = bounded_int("before", 0, low=0)
    q = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(AUDIT_PER_PAGE)
    if kind:
        q = q.where(AuditEvent.kind == kind)
    if before:
        q = q.where(AuditEvent.id < before)
    events = db.session.scalars(q).all()
    kinds = db.session.scalars(select(AuditEvent.kind).distinct().order_by(AuditEvent.kind)).all()
    return render("admin/audit.html", events=events, kind=kind, kinds=kinds, kind_labels=audit.KIND_LABELS,
                  more=len(events) == AUDIT_PER_PAGE)
