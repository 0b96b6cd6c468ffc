"""Audit events: one helper so that every caller writes the same shape."""
from datetime import datetime

from models.audit import AuditEvent

LOGIN = "login"
LOGIN_FAILED = "login_failed"
LOCKOUT = "lockout"
LOGOUT = "logout"
PERMISSION_DENIED = "permission_denied"
NOT_FOUND_SCOPE = "out_of_scope"
RATE_LIMITED = "rate_limited"
PASSWORD_CHANGED = "password_changed"
USER_CREATED = "user_created"
USER_UPDATED = "user_updated"
PASSWORD_RESET = "password_reset"
UNIT_CHANGED = "unit_changed"
PII_REVEALED = "pii_revealed"
PHONE_SEARCHED = "phone_searched"   # a register search by phone from someone who sees phones masked
SETTING_CHANGED = "setting_changed"
FILE_REJECTED = "file_rejected"
CATEGORY_CHANGED = "category_changed"
CALENDAR_CHANGED = "calendar_changed"


def record(session, kind: str, *, now: datetime, actor_id: int | None = None, target: str | None = None,
           ip: str | None = None, **detail) -> AuditEvent:
    event = AuditEvent(kind=kind, actor_id=actor_id, target=target, ip=ip, at=now, detail=detail or None)
    session.add(event)
    return event
