"""Reminders over HTTP: the admin's time-limit, digest, SMTP and robot pages, the failure list,
the bell, the notices, pausing a complaint, and the manager's overdue counts."""
from datetime import timedelta

from sqlalchemy import select

from domain import reminders
from models import db, utcnow
from models.complaint import Notification
from models.org import OrgUnit
from models.setting import Setting
from models.sla import Outbox, SlaClock
from models.user import User
from tests.builders import as_user, register_on_screen, step


def user(name):
    return db.session.scalar(select(User).where(User.username == name))


def make_overdue(c, hours=25):
    """Move the complaint's clocks back in time (as if `hours` had passed) and sweep."""
    for k in db.session.scalars(select(SlaClock).where(SlaClock.complaint_id == c.id)):
        for name in ("started_at", "deadline", "warn_at", "escalate_at", "next_alert_at"):
            if getattr(k, name) is not None:
                setattr(k, name, getattr(k, name) - timedelta(hours=hours))
    db.session.commit()
    reminders.sweep(db.session, utcnow())
    db.session.commit()


def test_admin_picks_and_edits_the_time_limits(login_as):
    admin = login_as("admin")
    page = admin.get("/admin/reminders").get_data(as_text=True)
    assert "时限方案" in page and "《客户投诉处理制度》第五条：24 小时内与顾客联系" in page
    assert admin.post("/admin/reminders/preset", {"preset": "food"}).status_code == 303
    assert db.session.get(Setting, "sla_preset").value == "food"
    page = admin.get("/admin/reminders").get_data(as_text=True)
    assert "《食品厂客户投诉闭环处理制度》：受理后 30 分钟内与客户取得联系" in page
    assert "类别：产品质量" in page and "《食品厂客户投诉闭环处理制度》：产品质量 48 小时内出具检验报告" in page
    bad = admin.post("/admin/reminders/limits", {"amount_dispatch": "abc", "unit_dispatch": "calendar_hours"})
    assert bad.status_code == 422 and "请填写大于 0 的数字" in bad.get_data(as_text=True)
    assert db.session.get(Setting, "sla_overrides") is None
    from domain import sla
    form = {}
    for kind, limit in sla.limits_for("food").items():
        form[f"amount_{kind.value}"], form[f"unit_{kind.value}"] = str(limit.amount), limit.unit.value
    form["amount_dispatch"], form["unit_dispatch"] = "2", "working_hours"
    assert admin.post("/admin/reminders/limits", form).status_code == 303
    assert db.session.get(Setting, "sla_overrides").value == {"dispatch": ["2", "working_hours"]}
    assert "已修改" in admin.get("/admin/reminders").get_data(as_text=True)
    bad = admin.post("/admin/reminders/digests", {"digest_head": "8点", "digest_manager": "08:30"})
    assert bad.status_code == 422 and "请按 时:分 填写" in bad.get_data(as_text=True)
    assert admin.post("/admin/reminders/digests", {"digest_head": "07:45", "digest_manager": "09:00"}).status_code == 303
    # without the CSRF token nothing changes
    assert admin.post("/admin/reminders/preset", {"preset": "bank"}, csrf=False).status_code == 400
    assert db.session.get(Setting, "sla_preset").value == "food"
    assert admin.post("/admin/reminders/preset", {"preset": "bank"}).status_code == 303
    page = admin.get("/admin/reminders").get_data(as_text=True)
    assert 'name="amount_close" value="10"' in page and "E+" not in page     # 10 working days, written plainly


def test_only_the_admin_reaches_the_settings(login_as, app):
    for name in ("manager", "quality"):
        web = as_user(app, name)
        assert web.get("/admin/reminders").status_code == 403
        assert web.post("/admin/reminders/preset", {"preset": "bank"}).status_code == 403
    login_as("admin")
    assert db.session.get(Setting, "sla_preset") is None


def test_smtp_settings_and_a_test_mail(login_as, smtp_sink):
    admin = login_as("admin")
    me = user("admin")
    form = {"display_name": me.display_name, "org_unit_id": str(me.org_unit_id), "roles": ["admin"],
            "locale": "zh_CN", "email": "not-an-address"}
    resp = admin.post(f"/admin/users/{me.id}/edit", form)
    assert resp.status_code == 422 and "电子邮箱格式不对" in resp.get_data(as_text=True)
    assert admin.post(f"/admin/users/{me.id}/edit", {**form, "email": "Zhou.Lei@Example.com"}).status_code == 303
    db.session.refresh(me)
    assert me.email == "zhou.lei@example.com"
    bad = admin.post("/admin/reminders/smtp", {"host": "127.0.0.1", "port": "x", "security": "none", "sender": "a"})
    text = bad.get_data(as_text=True)
    assert bad.status_code == 422 and "端口须是" in text and "请填写发件地址" in text
    ok = admin.post("/admin/reminders/smtp", {"host": "127.0.0.1", "port": str(smtp_sink.port), "security": "none",
                                              "username": "", "password": "pw-xyz", "sender": "kesu@example.com",
                                              "sender_name": "客诉系统"})
    assert ok.status_code == 303
    page = admin.get("/admin/reminders").get_data(as_text=True)
    assert "pw-xyz" not in page          # the password is never shown again
    resp = admin.post("/admin/reminders/smtp/test")
    assert resp.status_code == 200 and "测试邮件已发到 zhou.lei@example.com" in resp.get_data(as_text=True)
    assert smtp_sink.messages[-1][1]["Subject"] == "【客诉系统】测试邮件"


def test_a_department_robot_is_set_tested_and_its_failures_listed(login_as, webhook_server):
    admin = login_as("admin")
    unit = db.session.scalar(select(OrgUnit).where(OrgUnit.name == "上海徐汇店"))
    bad = admin.post(f"/admin/units/{unit.id}/robot", {"robot_kind": "wecom", "robot_url": "ftp://x"})
    assert bad.status_code == 422 and "Webhook 地址" in bad.get_data(as_text=True)
    url = webhook_server.url + "/cgi-bin/webhook/send?key=k1"
    assert admin.post(f"/admin/units/{unit.id}/robot", {"robot_kind": "wecom", "robot_url": url}).status_code == 303
    assert admin.post(f"/admin/units/{unit.id}/robot/test").status_code == 303
    assert "测试消息" in webhook_server.requests[-1]["body"]["markdown"]["content"]
    # A reminder the robot refuses eight times is listed for the admin, who sends it again.
    webhook_server.answers = [(500, {})]
    clerk = as_user(admin.client.application, "receiver")
    c = register_on_screen(clerk)
    make_overdue(c)
    from domain import delivery
    row = db.session.scalar(select(Outbox).where(Outbox.kind == "sla:due:dispatch"))
    row.attempts, row.status, row.last_error = delivery.MAX_ATTEMPTS, "failed", "HTTP 500 Internal Server Error"
    db.session.commit()
    page = admin.get("/admin/reminders").get_data(as_text=True)
    assert "HTTP 500 Internal Server Error" in page and "分派已到期" in page and "重发" in page
    assert admin.post(f"/admin/reminders/outbox/{row.id}/retry").status_code == 303
    db.session.refresh(row)
    assert row.status == "pending" and row.attempts == 0
    assert admin.post("/admin/reminders/outbox/999999/retry").status_code == 404


def test_the_bell_and_the_inbox_show_reminders(login_as, app):
    clerk = login_as("receiver")
    c = register_on_screen(clerk)
    quality = as_user(app, "quality")
    before = quality.get("/complaints/notices/bell", htmx=True).get_data(as_text=True)
    assert 'hx-trigger="every 60s, kesu:visible from:document"' in before
    make_overdue(c)
    bell = quality.get("/complaints/notices/bell", htmx=True).get_data(as_text=True)
    unread = db.session.query(Notification).filter(Notification.user_id == user("quality").id,
                                                   Notification.read_at.is_(None)).count()
    assert unread >= 2 and f'<span class="bell-n">{unread}</span>' in bell
    page = quality.get("/complaints/notices").get_data(as_text=True)
    assert "分派已到期" in page and "首次联系已到期" in page and c.number in page
    assert '<span class="bell-n">' not in quality.get("/complaints/notices/bell", htmx=True).get_data(as_text=True)


def test_waiting_for_the_customer_pauses_the_clocks_on_the_record(login_as, app):
    clerk = login_as("receiver")
    c = register_on_screen(clerk)
    quality = as_user(app, "quality")
    assert "等待客户补充材料" in quality.get(f"/complaints/{c.id}/actions", htmx=True).get_data(as_text=True)
    resp = step(quality, c, "pause", reason="  ")
    assert resp.status_code == 422 and "请写明在等客户补充什么" in resp.get_data(as_text=True)
    assert step(quality, c, "pause", reason="等顾客发购物小票<b>照片</b>").status_code == 204
    page = quality.get(f"/complaints/{c.id}").get_data(as_text=True)
    assert "等待客户补充材料" in page and "暂停中" in page
    assert "&lt;b&gt;照片&lt;/b&gt;" in page and "<b>照片</b>" not in page
    assert step(quality, c, "pause", reason="again").status_code == 409
    queue = quality.get("/quality/").get_data(as_text=True)
    assert "sla-paused" in queue
    assert step(quality, c, "resume").status_code == 204
    page = quality.get(f"/complaints/{c.id}").get_data(as_text=True)
    assert "暂停中" not in page and "客户材料已到，恢复计时" in page


def test_the_register_and_the_record_show_a_clock_at_the_same_level(login_as, app):
    """Issue 14: the register's badge said red (due within the hour) while the record said amber."""
    import re
    clerk = login_as("receiver")
    c = register_on_screen(clerk)
    now = utcnow()
    dispatch = db.session.scalar(select(SlaClock).where(SlaClock.complaint_id == c.id, SlaClock.kind == "dispatch"))
    assert dispatch.unit == "calendar_hours"
    dispatch.warn_at, dispatch.deadline = now - timedelta(hours=2), now + timedelta(minutes=30)
    db.session.commit()
    quality = as_user(app, "quality")
    row = quality.get("/complaints/").get_data(as_text=True)
    row = row[row.index(c.number):]
    assert re.search(r'class="sla sla-(\w+)"', row).group(1) == "red"
    record = quality.get(f"/complaints/{c.id}").get_data(as_text=True)
    clocks = record[record.index('class="plain-list clocks"'):]
    assert re.search(r'class="sla sla-(\w+)"', clocks).group(1) == "red"

def test_the_manager_sees_overdue_counts_and_others_only_their_own(login_as, app):
    clerk = login_as("receiver")
    c = register_on_screen(clerk)
    make_overdue(c)
    manager = as_user(app, "manager")
    home = manager.get("/manager/").get_data(as_text=True)
    assert 'id="overdue"' in home and "分派" in home
    listing = manager.get("/complaints/overdue").get_data(as_text=True)
    assert c.number in listing
    other_store = as_user(app, "receiver2")
    assert c.number not in other_store.get("/complaints/overdue").get_data(as_text=True)
    assert c.number in clerk.get("/complaints/overdue").get_data(as_text=True)


def test_overlong_and_html_text_gets_messages_not_errors(login_as, app):
    clerk = login_as("receiver")
    c = register_on_screen(clerk)
    quality = as_user(app, "quality")
    resp = step(quality, c, "pause", reason="长" * 10_000)
    assert resp.status_code == 422 and "最多 200 个字" in resp.get_data(as_text=True)
    db.session.refresh(c)
    assert c.paused_at is None
    admin = as_user(app, "admin")
    resp = admin.post("/admin/reminders/smtp", {"host": "h" * 10_000, "port": "25", "security": "none",
                                                "sender": "a@example.com"})
    assert resp.status_code == 422 and "服务器地址不对" in resp.get_data(as_text=True)
    assert db.session.get(Setting, "smtp") is None
