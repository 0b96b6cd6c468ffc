from sqlalchemy import func, select

from models import db
from models.org import OrgUnit
from models.user import User


def test_seed_demo_once_then_skips_when_not_empty(app, full_demo):
    runner = app.test_cli_runner()
    result = full_demo.result                      # the run's one `flask seed-demo`, on an empty database
    assert result.exit_code == 0, result.output
    users = db.session.scalar(select(func.count()).select_from(User))
    assert users >= 30
    from models.report import HalfYearReport
    report = db.session.scalars(select(HalfYearReport)).one()          # the last half-year, with its figures
    assert report.data["totals"]["received"] > 50 and report.data["penalties_by_unit"]
    from models.complaint import Penalty       # penalties in every state, and one appeal (issue 7)
    assert set(db.session.scalars(select(Penalty.status))) == {"pending", "approved", "rejected", "published"}
    assert db.session.scalar(select(func.count()).select_from(Penalty).where(Penalty.appeal.is_not(None))) == 1
    again = runner.invoke(args=["seed-demo", "--if-empty"])
    assert again.exit_code == 0 and "跳过" in again.output
    refused = runner.invoke(args=["seed-demo"])
    assert refused.exit_code != 0
    assert db.session.scalar(select(func.count()).select_from(User)) == users


def test_the_demo_has_a_complaint_falling_due_as_it_starts(app, full_demo):
    """`make run`: the first sweep (within a minute) reminds about one complaint, once; the
    history's reminders are already read."""
    from domain import reminders
    from models import utcnow
    from models.complaint import Complaint, Notification
    assert full_demo.result.exit_code == 0
    assert db.session.scalar(select(func.count()).select_from(Notification).where(
        Notification.dedupe_key.is_not(None), Notification.read_at.is_(None))) == 0
    first = reminders.sweep(db.session, utcnow())
    db.session.commit()
    late = db.session.scalar(select(Complaint).where(Complaint.customer_phone == "13916002024"))
    fresh = db.session.scalars(select(Notification).where(Notification.read_at.is_(None),
                                                          Notification.dedupe_key.is_not(None))).all()
    assert first.notices == len(fresh) >= 3
    assert {n.kind for n in fresh if n.complaint_id == late.id} == {"sla:due:dispatch", "sla:due:first_contact"}
    names = {db.session.get(User, n.user_id).username for n in fresh if n.kind == "sla:due:dispatch"
             and n.complaint_id == late.id}
    assert names == {"quality", "quality2", "receiver"}
    assert reminders.sweep(db.session, utcnow()).notices == 0


def test_demo_logins_of_the_readme_exist(app, full_demo):
    expected = {"admin": "admin", "manager": "manager", "quality": "quality", "handler": "handler",
                "handler2": "handler", "receiver": "receiver", "receiver2": "receiver"}
    for username, role in expected.items():
        u = db.session.scalar(select(User).where(User.username == username))
        assert role in u.roles
    assert db.session.scalar(select(User).where(User.username == "handler")).is_head
    assert not db.session.scalar(select(User).where(User.username == "handler2")).is_head
    r1 = db.session.scalar(select(User).where(User.username == "receiver")).org_unit
    r2 = db.session.scalar(select(User).where(User.username == "receiver2")).org_unit
    assert r1.kind == r2.kind == "store" and r1.parent_id != r2.parent_id


def test_create_user_on_an_empty_database_creates_the_company(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["create-user", "boss", "--name", "老板", "--role", "admin", "--role", "manager",
                                 "--company", "示例公司"], env={"KESU_NEW_PASSWORD": "Chief2026pw"})
    assert result.exit_code == 0, result.output
    boss = db.session.scalar(select(User).where(User.username == "boss"))
    assert boss.roles == {"admin", "manager"} and boss.org_unit.name == "示例公司"
    assert not boss.must_change_password
    weak = runner.invoke(args=["create-user", "weak", "--name", "弱", "--role", "admin"],
                         env={"KESU_NEW_PASSWORD": "123"})
    assert weak.exit_code != 0 and "密码" in weak.output
    assert db.session.scalar(select(func.count()).select_from(OrgUnit)) == 1


def test_calendar_import_command(app, tmp_path):
    from datetime import date

    from models import db
    from models.calendar import CalendarDay
    good = tmp_path / "2027.csv"
    good.write_text("\ufeffdate,kind,name\n2027-10-01,放假,国庆节\n2027-09-26,上班,调休上班\n", encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["calendar-import", str(good)])
    assert result.exit_code == 0 and "2027" in result.output
    assert db.session.get(CalendarDay, date(2027, 9, 26)).workday is True
    bad = tmp_path / "bad.csv"
    bad.write_text("2027-10-01,vacation\n", encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["calendar-import", str(bad)])
    assert result.exit_code != 0 and "第 1 行" in result.output


def test_the_admin_page_and_the_command_import_a_calendar_through_one_function(login_as, app, tmp_path,
                                                                              monkeypatch):
    """Issue 14: the admin view and the CLI each stored the arrangement and then recomputed the
    estimated deadlines; both now call domain.clocks.import_calendar."""
    import io

    from domain import clocks
    calls, real = [], clocks.import_calendar

    def spy(session, actor, text, now):
        calls.append(actor.username if actor else None)
        return real(session, actor, text, now)

    monkeypatch.setattr(clocks, "import_calendar", spy)
    admin = login_as("admin")
    resp = admin.post("/admin/calendar/import", {"file": (io.BytesIO("2027-01-01,holiday,元旦\n".encode()), "a.csv")},
                      content_type="multipart/form-data")
    assert resp.status_code == 303
    path = tmp_path / "2027.csv"
    path.write_text("2027-01-01,放假,元旦\n", encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["calendar-import", str(path)])
    assert result.exit_code == 0 and "重新计算了" in result.output
    assert calls == ["admin", None]

def test_half_year_summary_command_any_period_once(app, company, tmp_path):
    import io

    from openpyxl import load_workbook
    from sqlalchemy import func, select

    from models import db
    from models.complaint import Notification
    from models.report import HalfYearReport
    from tests.domain.test_ledger import build
    build(db.session)
    runner = app.test_cli_runner()
    out = tmp_path / "h.xlsx"
    first = runner.invoke(args=["half-year-summary", "--from", "2026-06-01", "--to", "2026-11-30", "--xlsx", str(out)])
    assert first.exit_code == 0, first.output
    assert "已生成 2026-06-01 至 2026-11-30 的半年汇总" in first.output and "通知了 4 人" in first.output
    sheet = load_workbook(io.BytesIO(out.read_bytes()))["概况"]
    assert sheet["B1"].value == "2026-06-01 — 2026-11-30" and (sheet["A3"].value, sheet["B3"].value) == ("受理", 7)
    again = runner.invoke(args=["half-year-summary", "--from", "2026-06-01", "--to", "2026-11-30"])
    assert again.exit_code == 0 and "已存在，未重复生成" in again.output
    redo = runner.invoke(args=["half-year-summary", "--from", "2026-06-01", "--to", "2026-11-30", "--replace"])
    assert redo.exit_code == 0 and "已重新计算" in redo.output
    assert db.session.scalar(select(func.count()).select_from(HalfYearReport)) == 1
    assert db.session.scalar(select(func.count()).select_from(Notification)
                             .where(Notification.kind == "report:halfyear")) == 4
    bad = runner.invoke(args=["half-year-summary", "--from", "2026-06-01", "--to", "2026-05-01"])
    assert bad.exit_code != 0 and "结束日期须晚于开始日期" in bad.output
    half = runner.invoke(args=["half-year-summary", "--from", "2026-06-01"])
    assert half.exit_code != 0 and "须同时给出" in half.output
    other = runner.invoke(args=["half-year-summary", "--from", "2026-01-01", "--to", "2026-03-31"])
    assert other.exit_code == 0 and "已生成 2026-01-01 至 2026-03-31" in other.output
    assert db.session.scalar(select(func.count()).select_from(HalfYearReport)) == 2


def test_the_demo_covers_every_channel_stage_and_urgency(app, full_demo):
    """Issue 15: every screen has an example — every channel, stage, urgency and type, a paused,
    a withdrawn and a duplicate complaint, and walk-in complaints with photos on disk."""
    from pathlib import Path

    from domain import attachments
    from domain.intake import Channel, ComplaintType, Urgency
    from domain.stages import Stage
    from models.attachment import Attachment
    from models.complaint import Complaint

    def values(column):
        return set(db.session.scalars(select(column).distinct()))
    assert values(Complaint.channel) == {c.value for c in Channel}
    assert values(Complaint.stage) == {s.value for s in Stage}
    assert values(Complaint.urgency) == {u.value for u in Urgency}
    assert values(Complaint.type) == {t.value for t in ComplaintType}
    assert {"withdrawn", "duplicate", "resolved"} <= values(Complaint.close_reason)
    paused = db.session.scalars(select(Complaint).where(Complaint.paused_at.is_not(None))).all()
    assert paused and all(c.stage not in ("closed", "new") and c.pause_reason for c in paused)
    duplicate = db.session.scalar(select(Complaint).where(Complaint.close_reason == "duplicate"))
    assert duplicate.duplicate_of_id is not None
    photos = db.session.scalars(select(Attachment).where(Attachment.complaint_id.is_not(None),
                                                         Attachment.kind == "image")).all()
    assert len({a.complaint_id for a in photos}) >= 2
    root = Path(app.config["UPLOAD_DIR"])
    for a in photos:
        for variant in attachments.VARIANTS:
            assert attachments.file_path(root, a, variant).stat().st_size > 1000
    # Issue 16: the customer's side — online complaints registered by the customer (one with their
    # photo), information the customer added, and a complaint the customer closed through the link.
    from models.complaint import ComplaintEvent
    web = db.session.scalars(select(Complaint).join(ComplaintEvent).where(
        Complaint.channel == "web", ComplaintEvent.kind == "registered", ComplaintEvent.actor_id.is_(None))).all()
    assert len(web) >= 2 and all(c.contact_consent for c in web)
    assert db.session.scalar(select(Attachment).where(Attachment.uploaded_by_id.is_(None),
                                                      Attachment.complaint_id.is_not(None))) is not None
    assert db.session.scalar(select(ComplaintEvent).where(ComplaintEvent.kind == "customer_adds")) is not None
    closed = db.session.scalar(select(Complaint).where(Complaint.close_reason == "customer"))
    assert closed.stage == "closed" and closed.events[-1].kind == "customer_closed"
