"""Audit events: one helper so that every caller writes the same shape."""
from datetime import datetime

from domain.errors import N_
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

# What the audit log shows for each kind (the kind itself stays in the row's title and the filter).

KIND_LABELS = {
    LOGIN: N_("登录"), LOGIN_FAILED: N_("登录失败"), LOCKOUT: N_("账号锁定"), LOGOUT: N_("退出登录"),
    PERMISSION_DENIED: N_("无权访问"), NOT_FOUND_SCOPE: N_("越权查看"), RATE_LIMITED: N_("请求过于频繁"),
    PASSWORD_CHANGED: N_("修改密码"), USER_CREATED: N_("新建用户"), USER_UPDATED: N_("修改用户"),
    PASSWORD_RESET: N_("重置密码"), UNIT_CHANGED: N_("组织架构变更"), PII_REVEALED: N_("查看顾客联系方式"),
    PHONE_SEARCHED: N_("按电话查询"), SETTING_CHANGED: N_("修改设置"), FILE_REJECTED: N_("拒收文件"),
    CATEGORY_CHANGED: N_("投诉类别变更"), CALENDAR_CHANGED: N_("工作日历变更"),
    "reply_template_changed": N_("答复模板变更"), "concealment_review": N_("瞒报核查"),
    "order_volume_changed": N_("订单量变更"),
}


def record(session, kind: str, *, now: datetime, actor_id: int | None = None, target: str | None = None,
           ip: str | None = None, **detail) -> AuditEvent:
    event = AuditEvent(kind=kind, actor_id=actor_id, target=target, ip=ip, at=now, detail=detail or None)
    session.add(event)
    return event
