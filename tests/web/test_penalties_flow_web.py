"""Penalties over HTTP: quality proposes from the record page, the manager decides on a card, the
penalised team's head appeals once, the manager decides the appeal."""
from decimal import Decimal

from sqlalchemy import select

from models import db
from models.complaint import Penalty
from tests.builders import as_user, register_on_screen, step, unit


def attributed_complaint(app, clerk):
    c = register_on_screen(clerk, severity="general")
    quality = as_user(app, "quality")
    assert step(quality, c, "dispatch", unit_id=unit(db.session, "嘉兴食品厂").id).status_code == 204
    head = as_user(app, "jx_head")
    assert step(head, c, "propose", findings="头发", root_cause="发网破损", cause_category="man", kind="refund",
                amount="68", text="退款").status_code == 204
    assert step(as_user(app, "manager"), c, "approve").status_code == 204
    assert step(quality, c, "attribute", kind="factory", unit_id=str(unit(db.session, "嘉兴食品厂").id)).status_code == 204
    return c, quality


def test_propose_approve_and_appeal(login_as, app):
    clerk = login_as("receiver")
    c, quality = attributed_complaint(app, clerk)
    record = quality.get(f"/complaints/{c.id}").get_data(as_text=True)
    assert 'id="penalty"' in record and "按罚扣标准：基本 ¥500.00" in record      # general × factory
    bad = quality.post(f"/complaints/{c.id}/penalty", {"amount": "300", "reason": ""})
    assert bad.status_code == 422 and "金额与标准不同，请写明理由" in bad.get_data(as_text=True)
    assert quality.post(f"/complaints/{c.id}/penalty", {"amount": "", "reason": ""}).status_code == 303
    p = db.session.scalar(select(Penalty).where(Penalty.complaint_id == c.id))
    assert p.amount == Decimal("500.00") and p.status == "pending"
    manager = as_user(app, "manager")
    home = manager.get("/manager/").get_data(as_text=True)
    assert f'id="penalty-{c.id}"' in home and "全厂 · 嘉兴食品厂" in home
    card = manager.post(f"/complaints/{c.id}/penalty/approve", {"version": p.version}, htmx=True)
    assert card.status_code == 200 and "已批准" in card.get_data(as_text=True) and len(card.get_data()) < 10_000
    again = manager.post(f"/complaints/{c.id}/penalty/approve", {"version": 1}, htmx=True)
    assert again.status_code == 409
    db.session.refresh(p)
    assert p.status == "approved"
    assert quality.post(f"/complaints/{c.id}/penalty/appeal", {"appeal": "不服", "version": p.version}).status_code == 403
    # seeing everything is not being penalised: the manager (who decides) and quality's head cannot appeal
    assert "提出申诉" not in manager.get(f"/complaints/{c.id}").get_data(as_text=True)
    for who in ("manager", "quality2"):
        assert as_user(app, who).post(f"/complaints/{c.id}/penalty/appeal",
                                      {"appeal": "不服", "version": p.version}).status_code == 403
    head = as_user(app, "jx_head")
    assert "提出申诉" in head.get(f"/complaints/{c.id}").get_data(as_text=True)
    assert head.post(f"/complaints/{c.id}/penalty/appeal", {"appeal": "发网由采购统一配发", "version": p.version}).status_code == 303
    db.session.refresh(p)
    assert manager.post(f"/complaints/{c.id}/penalty/appeal/reduced",
                        {"amount": "250", "comment": "部分采纳", "version": p.version}).status_code == 303
    db.session.refresh(p)
    assert (p.amount, p.appeal_decision) == (Decimal("250.00"), "reduced")
    record = manager.get(f"/complaints/{c.id}").get_data(as_text=True)
    assert "申诉：减免" in record and "部分采纳" in record


def test_a_rejection_needs_a_reason_and_others_cannot_decide(login_as, app):
    clerk = login_as("receiver")
    c, quality = attributed_complaint(app, clerk)
    assert quality.post(f"/complaints/{c.id}/penalty", {}).status_code == 303
    p = db.session.scalar(select(Penalty).where(Penalty.complaint_id == c.id))
    manager = as_user(app, "manager")
    bad = manager.post(f"/complaints/{c.id}/penalty/reject", {"version": p.version, "comment": ""}, htmx=True)
    assert bad.status_code == 422 and "驳回请写明理由" in bad.get_data(as_text=True)
    # STYLE (Access): a wrong role is 403; the penalty card answers quality's approve with 422 (a message on
    # the card), as it does for any refusal — left as it was and reported, not pinned either way.
    assert quality.post(f"/complaints/{c.id}/penalty/approve", {"version": p.version}, htmx=True).status_code == 403
    ok = manager.post(f"/complaints/{c.id}/penalty/reject", {"version": p.version, "comment": "证据不足"}, htmx=True)
    assert ok.status_code == 200 and "已驳回" in ok.get_data(as_text=True)
    other = as_user(app, "receiver2")
    assert other.get(f"/complaints/{c.id}/penalty/card").status_code == 404


def test_penalty_totals_drill_down_and_excel(login_as, app):
    import io

    from openpyxl import load_workbook
    clerk = login_as("receiver")
    c, quality = attributed_complaint(app, clerk)
    assert quality.post(f"/complaints/{c.id}/penalty", {}).status_code == 303
    p = db.session.scalar(select(Penalty).where(Penalty.complaint_id == c.id))
    manager = as_user(app, "manager")
    period = {"from": "2020-01-01", "to": "2099-12-31"}
    assert "这段时间没有已批准的罚扣" in manager.get("/complaints/penalties", query_string=period).get_data(as_text=True)
    assert manager.post(f"/complaints/{c.id}/penalty/approve", {"version": p.version}, htmx=True).status_code == 200
    page = manager.get("/complaints/penalties", query_string=period).get_data(as_text=True)
    assert "嘉兴食品厂" in page and "500.00" in page
    drill = manager.get("/complaints/penalties", query_string={**period, "key": unit(db.session, "嘉兴食品厂").id})
    assert c.number in drill.get_data(as_text=True)
    xlsx = manager.get("/complaints/penalties", query_string={**period, "format": "xlsx"})
    sheet = load_workbook(io.BytesIO(xlsx.get_data())).active
    assert [c.value for c in sheet[2]] == ["单位", "所属", "条数", "金额（元）"]
    assert [c.value for c in sheet[3]] == ["嘉兴食品厂", "鑫源食品股份有限公司", 1, 500.0]
    assert [c.value for c in sheet[4]] == ["合计", None, 1, 500.0]
    assert as_user(app, "receiver2").get("/complaints/penalties").status_code == 403


def test_a_serious_penalty_is_published_as_a_notice_and_the_team_is_told(login_as, app):
    """Serious → published on approval: the team's head is notified, may open the complaint (which never
    passed through the team) and print the general manager's office notice; it carries no customer data."""
    from models.complaint import Notification
    from models.user import User
    clerk = login_as("receiver")
    c = register_on_screen(clerk, severity="serious")
    quality = as_user(app, "quality")
    assert step(quality, c, "dispatch", unit_id=unit(db.session, "嘉兴食品厂").id).status_code == 204
    assert step(as_user(app, "jx_head"), c, "propose", findings="头发", root_cause="加工一班发网破损未更换",
                cause_category="man", kind="refund", amount="68", text="退款").status_code == 204
    manager = as_user(app, "manager")
    assert step(manager, c, "approve").status_code == 204
    team = as_user(app, "jx_team")
    assert team.get(f"/complaints/{c.id}").status_code == 404               # not theirs yet
    assert step(quality, c, "attribute", kind="team", unit_id=str(unit(db.session, "加工一班").id),
                reason="班组明确").status_code == 204
    assert quality.post(f"/complaints/{c.id}/penalty", {}).status_code == 303
    p = db.session.scalar(select(Penalty).where(Penalty.complaint_id == c.id))
    manager_id = db.session.scalar(select(User.id).where(User.username == "manager"))
    kinds = lambda uid: set(db.session.scalars(select(Notification.kind).where(Notification.user_id == uid,  # noqa: E731
                                                                                Notification.complaint_id == c.id)))
    assert "penalty:to_approve" in kinds(manager_id)
    assert team.get(f"/complaints/{c.id}/penalty/notice").status_code == 404   # not published yet
    card = manager.post(f"/complaints/{c.id}/penalty/approve", {"version": p.version}, htmx=True)
    assert "总经理办公室公布" in card.get_data(as_text=True)
    db.session.refresh(p)
    assert p.status == "published"
    team_id = db.session.scalar(select(User.id).where(User.username == "jx_team"))
    assert "penalty:published" in kinds(team_id)
    record = team.get(f"/complaints/{c.id}")
    assert record.status_code == 200 and "总经理办公室通报（打印）" in record.get_data(as_text=True)
    year = p.events[-1].at.year
    notice = team.get(f"/complaints/{c.id}/penalty/notice").get_data(as_text=True)
    assert f"总办通〔{year}〕1号" in notice and c.number in notice and "¥1,000.00" not in notice
    assert "¥500.00" in notice and "班组 · 加工一班" in notice and "加工一班发网破损未更换" in notice
    assert "王女士" not in notice and "13812345678" not in notice and "5678" not in notice
    assert team.post(f"/complaints/{c.id}/penalty/appeal", {"appeal": "发网由仓库统一配发", "version": p.version}).status_code == 303
    assert "penalty:appealed" in kinds(manager_id)
    assert as_user(app, "receiver2").get(f"/complaints/{c.id}/penalty/notice").status_code == 404
