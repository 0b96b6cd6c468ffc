"""Telling people (SPEC §4.4): in-app notices, with an e-mail copy where one is due.

The workflow, intake, penalties, the half-year summary and the reminders all tell people through
this module; who holds a role is looked up here too. Notices are rows in the caller's
transaction; e-mails wait in the outbox (domain.channels sends them)."""
from __future__ import annotations

from sqlalchemy import String, literal, literal_column, select

from domain import channels
from domain.errors import N_
from models import UTCDateTime, upsert_insert
from models.complaint import Notification
from models.sla import Outbox
from models.user import User, UserRole

EMAIL_KINDS = frozenset({"major_registered"})   # workflow notices that also go by e-mail (reminders always do)

# Notice kinds in words (reminders, sla:<level>:<clock>, and progress, stage:<stage>, are put
# together from their parts' labels).
NOTICE_LABELS = {
    "assigned": N_("分派给您的部门"), "to_approve": N_("等您审批"), "approved": N_("方案已批准"),
    "rejected": N_("方案被驳回"), "handed_back": N_("部门退回，需重新分派"), "answer_not_accepted": N_("顾客不认可答复"),
    "ineffective": N_("措施验证无效"), "dissatisfied": N_("顾客不满意，待决定"), "reopened": N_("重新处理"),
    "major_registered": N_("新的重大投诉"), "digest:head": N_("每日摘要：本部门超时和今日到期"),
    "digest:manager": N_("每日摘要：待审批和超时"), "digest:quality": N_("每日摘要：品管待办的超时和今日到期"),
    "ledger:weekly": N_("每周责任台账"),
    "penalty:to_approve": N_("罚扣等您审批"), "penalty:approved": N_("罚扣已批准"),
    "penalty:published": N_("罚扣已批准，总经理办公室通报"), "penalty:rejected": N_("罚扣被驳回"),
    "penalty:appealed": N_("罚扣申诉等您决定"), "penalty:appeal_decided": N_("罚扣申诉已决定"),
    "report:halfyear": N_("新的半年汇总"), "report:monthly": N_("新的月度报告"),
    "repeat": N_("您处理过的投诉有二次投诉"), "customer_added": N_("顾客补充了材料"),
    "customer_not_closed": N_("顾客已评价，但未确认结案，待决定"), "web_registered": N_("新的网上投诉"), "inquiry_transferred": N_("转给您部门答复的咨询"),
    "meeting:invited": N_("邀请您参加客诉专题会"), "meeting:sign": N_("专题会纪要请您签字确认"),
    "meeting:unsigned": N_("专题会纪要还等您签字"), "meeting:action": N_("专题会交给您的措施"),
    "meeting:action_due": N_("专题会措施下一个工作日到期"), "meeting:action_late": N_("专题会措施已逾期"),
    "meeting:action_done": N_("专题会措施已完成，请验证"), "meeting:action_back": N_("专题会措施验证无效，请重新整改"),
}


def users_with(session, role, unit_id=None, heads=False) -> list[int]:
    """Ids of the active users with `role` (in `unit_id`; only its heads when `heads`)."""
    query = select(User.id).join(UserRole).where(UserRole.role == role, User.active.is_(True))
    if unit_id is not None:
        query = query.where(User.org_unit_id == unit_id)
    if heads:
        query = query.where(User.is_head.is_(True))
    return list(session.scalars(query))


def email_on(session) -> bool:
    """E-mail copies are written only when an SMTP server is configured."""
    return channels.smtp_config(session) is not None


def notify(session, user_ids, complaint, kind, now, actor=None) -> None:
    """An in-app notice of `kind` about `complaint` for each of `user_ids` (never to the actor,
    once per person), and an e-mail copy for the kinds in EMAIL_KINDS."""
    users = sorted({u for u in user_ids if u and (actor is None or u != actor.id)})
    rows = [Notification(user_id=user_id, complaint_id=complaint.id, kind=kind, at=now) for user_id in users]
    session.add_all(rows)
    if kind in EMAIL_KINDS and rows and email_on(session):
        session.flush()
        emails = dict(session.execute(select(User.id, User.email).where(User.id.in_(users))).all())
        session.add_all(Outbox(channel="email", dedupe_key=f"n{n.id}:mail", kind=kind, notification_id=n.id,
                               user_id=n.user_id, complaint_id=complaint.id, next_attempt_at=now, created_at=now)
                        for n in rows if emails.get(n.user_id))


def _const(text: str):
    assert "'" not in text
    return literal_column(f"'{text}'", String)


def queue_emails(session, now, prefix: str = "r") -> None:
    """An e-mail copy of every keyed notice written at `now` whose key starts with `prefix`
    (r: reminders, d: digests, w: weekly pages, h: half-year), for recipients with an address."""
    n = Notification.__table__.c
    u = User.__table__.c
    session.execute(
        upsert_insert(session)(Outbox).from_select(
            ["channel", "dedupe_key", "kind", "notification_id", "user_id", "complaint_id", "status", "attempts",
             "next_attempt_at", "created_at"],
            select(_const("email"), n.dedupe_key.concat(_const(":mail")), n.kind, n.id, n.user_id, n.complaint_id,
                   _const("pending"), literal(0), literal(now, UTCDateTime), literal(now, UTCDateTime))
            .join_from(Notification.__table__, User.__table__, u.id == n.user_id)
            .where(n.dedupe_key.is_not(None), n.at == now, n.dedupe_key.like(prefix + "%"),
                   u.email.is_not(None), u.email != ""))
        .on_conflict_do_nothing())
