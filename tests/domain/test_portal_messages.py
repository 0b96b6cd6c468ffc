"""Every message the customer is sent (SPEC §7) — acknowledgement, answer, survey link — is
scanned for what must never reach them: a member of staff's name, an internal note (findings,
root cause, the handler's answer note, the pause reason, a corrective action), and an amount
before it was approved. Real SMTP sink (aiosmtpd)."""
from __future__ import annotations

import re

from sqlalchemy import select

from domain import delivery
from domain.messages import Wording
from models.sla import Outbox
from models.user import User
from tests.builders import NOW, act, register, user
from tests.domain.test_channels import smtp_on

WORDING = Wording("https://kesu.example.com", secret="s")
INTERNAL = ["生产线发网破损（内部）", "员工甲未按规定佩戴发网", "顾客电话里语气很冲", "等检测报告（内部）", "全员培训发网佩戴（内部）",
            "仓库温控"]


def sent(session, smtp_sink, complaint) -> list[str]:
    rows = session.scalars(select(Outbox).where(Outbox.complaint_id == complaint.id,
                                                Outbox.kind.like("customer:%"), Outbox.status == "pending")).all()
    session.commit()
    before = len(smtp_sink.messages)
    delivery.deliver(session, [r.id for r in rows], NOW, WORDING)
    out = []
    for to, mail in smtp_sink.messages[before:]:
        assert to == ["zhou@example.com"]
        out.append(str(mail["Subject"]) + "\n" + mail.get_body(("plain",)).get_content()
                   + mail.get_body(("html",)).get_content())
    return out


def test_no_message_to_the_customer_carries_staff_names_notes_or_unapproved_amounts(session, company, smtp_sink):
    smtp_on(session, smtp_sink.port)
    staff = [name for name in session.scalars(select(User.display_name)) if name]
    c = register(session, customer_name="周女士", customer_email="zhou@example.com", contact_consent=True,
                 amount_claimed="500", extra={"complained_user_id": user(session, "ja_clerk").id})
    ack = sent(session, smtp_sink, c)
    assert len(ack) == 1 and c.number in ack[0] and "/track/" in ack[0]
    act(session, "quality", c, "dispatch", unit_id=session.scalar(select(User.org_unit_id).where(
        User.username == "handler2")), investigator_id=user(session, "handler2").id)
    act(session, "handler2", c, "pause", reason="等检测报告（内部）")
    act(session, "handler2", c, "resume", note="仓库温控")
    act(session, "handler2", c, "add_action", kind="corrective", text="全员培训发网佩戴（内部）",
        owner_unit_id=c.responsible_unit_id, due=NOW.date())
    act(session, "handler2", c, "propose", findings="生产线发网破损（内部）", root_cause="员工甲未按规定佩戴发网",
        cause_category="man", kind="refund", amount="68", text="为您退款 68 元并致歉。")
    assert sent(session, smtp_sink, c) == []        # nothing while the proposal waits for approval
    act(session, "manager", c, "approve")
    act(session, "handler2", c, "answer", method="phone", accepted=True, note="顾客电话里语气很冲")
    answer = sent(session, smtp_sink, c)
    act(session, "quality", c, "verify", verdicts={a.id: ("effective", "") for a in c.actions})
    survey = sent(session, smtp_sink, c)
    assert len(answer) == 1 and "为您退款 68 元并致歉" in answer[0]
    assert len(survey) == 1 and "/survey/" in survey[0] and "为您退款 68 元并致歉" in survey[0]
    for text in ack + answer + survey:
        for name in staff:
            assert name not in text, name
        for note in INTERNAL:
            assert note not in text, note
    bare = [re.sub(r"https?://\S+", "", text).replace(c.number, "") for text in ack + answer + survey]
    assert "68" not in bare[0] and not any("500" in text for text in bare)
