"""The administrator's page for the customer's side (SPEC §7) over HTTP: the public pages' settings,
the SMS settings (the secret never shown again) and a test SMS to a real local server that checks
the provider's signature, bad input answered 422 with messages, other roles refused."""
from sqlalchemy import select

from domain import sms
from domain.portal.config import portal_config
from models import db, utcnow
from models.sla import Outbox
from models.user import User
from tests.builders import as_user
from tests.conftest import free_port
from tests.domain.test_sms import KEY_ID, KEY_SECRET, TEMPLATES, provider, serve  # noqa: F401 — fixture

APP_ID = "1400123456"


def user(name):
    return db.session.scalar(select(User).where(User.username == name))


def sms_form(kind="aliyun", endpoint="", **changes):
    form = {"provider": kind, "access_key_id": KEY_ID[kind], "access_key_secret": KEY_SECRET[kind],
            "sign_name": "鲜味食品", "region": "", "app_id": APP_ID if kind == "tencent" else "", "endpoint": endpoint,
            **{f"template_{m}": code for m, code in TEMPLATES[kind].items()}}
    form.update(changes)
    return form


def test_the_admin_sets_up_the_public_pages(login_as):
    admin = login_as("admin")
    page = admin.get("/admin/portal")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "公开页面" in text and "短信" in text
    assert "http://127.0.0.1:8000/complain" in text and "http://127.0.0.1:8000/track" in text
    assert 'aria-current="page">顾客服务</a>' in text
    clerk = user("receiver")
    form = {"enabled": "on", "company_name": "鲜味食品有限公司", "intro": "请告诉我们发生了什么。",
            "privacy": "我们只为处理投诉收集您的姓名和电话。", "link_days": "14", "receiver_id": str(clerk.id)}
    assert admin.post("/admin/portal/public", form).status_code == 303
    config = portal_config(db.session)
    assert (config.enabled, config.company_name, config.link_days, config.receiver_id) == (True, "鲜味食品有限公司", 14,
                                                                                           clerk.id)
    assert "现在由 %s 受理" % clerk.display_name in admin.get("/admin/portal").get_data(as_text=True)
    bad = admin.post("/admin/portal/public", {**form, "link_days": "0", "privacy": " ", "receiver_id": "999999"},
                     htmx=True)
    text = bad.get_data(as_text=True)
    assert bad.status_code == 422 and "<html" not in text and 'id="public"' in text
    assert "链接有效期须是 1 到 90 天。" in text and "请填写个人信息保护说明" in text and "请选择一位在职的受理人。" in text
    assert 'value="0"' in text                                    # what was typed stays in the form
    without_js = admin.post("/admin/portal/public", {**form, "link_days": "abc"})
    assert without_js.status_code == 422 and "<html" in without_js.get_data(as_text=True)
    assert admin.post("/admin/portal/public", {**form, "enabled": ""}).status_code == 303     # off
    assert portal_config(db.session).enabled is False and portal_config(db.session).link_days == 14
    assert admin.post("/admin/portal/public", form, csrf=False).status_code == 400
    ok = admin.post("/admin/portal/public", form, htmx=True)
    assert ok.status_code == 204 and ok.headers["HX-Redirect"].endswith("/admin/portal#public")


def test_sms_settings_are_saved_and_the_secret_never_appears_again(login_as):
    admin = login_as("admin")
    assert admin.post("/admin/portal/sms", sms_form()).status_code == 303
    config = sms.sms_config(db.session)
    assert config.provider == "aliyun" and config.access_key_secret == KEY_SECRET["aliyun"]
    page = admin.get("/admin/portal").get_data(as_text=True)
    assert KEY_SECRET["aliyun"] not in page and KEY_ID["aliyun"] in page and "已保存，不修改请留空" in page
    assert 'value="SMS_100000003"' in page
    # a blank secret keeps the stored one
    assert admin.post("/admin/portal/sms", sms_form(access_key_secret="", sign_name="鲜味")).status_code == 303
    assert sms.sms_config(db.session).access_key_secret == KEY_SECRET["aliyun"]
    bad = admin.post("/admin/portal/sms", sms_form(kind="tencent", access_key_secret="new-secret-xyz", app_id="x",
                                                   template_ack="SMS_1", sign_name=""), htmx=True)
    text = bad.get_data(as_text=True)
    assert bad.status_code == 422 and 'id="sms"' in text and "<html" not in text
    assert "请填写短信应用的 SdkAppId" in text and "腾讯云的模板 ID 是一串数字" in text and "请填写短信签名" in text
    assert "new-secret-xyz" not in text and KEY_SECRET["aliyun"] not in text
    assert sms.sms_config(db.session).provider == "aliyun"                     # nothing saved
    assert admin.post("/admin/portal/sms", sms_form(kind="tencent")).status_code == 303
    page = admin.get("/admin/portal").get_data(as_text=True)
    assert KEY_SECRET["tencent"] not in page and 'value="1400123456"' in page
    assert admin.post("/admin/portal/sms", {"provider": ""}).status_code == 303
    assert sms.sms_config(db.session) is None
    assert "还没有开通短信" in admin.get("/admin/portal").get_data(as_text=True)


def test_a_test_sms_shows_the_providers_answer(login_as, provider):   # noqa: F811 — the fixture
    admin = login_as("admin")
    serve(provider, "aliyun")
    assert admin.post("/admin/portal/sms", sms_form(endpoint=provider.url)).status_code == 303
    ok = admin.post("/admin/portal/sms/test", {"test_phone": "139 0000 1234"})
    text = ok.get_data(as_text=True)
    assert ok.status_code == 200 and "测试短信已交给服务商，回执 900619746936498440^0" in text
    assert [r["ok"] for r in provider.requests] == [True]
    assert provider.requests[0]["params"]["PhoneNumbers"] == "13900001234"
    provider.secret = "another"                                 # the provider no longer accepts our key
    refused = admin.post("/admin/portal/sms/test", {"test_phone": "13900001234"}, htmx=True)
    text = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "服务商拒绝了这条短信：SignatureDoesNotMatch" in text
    assert "签名校验失败：请检查 AccessKey Secret" in text and KEY_SECRET["aliyun"] not in text
    bad = admin.post("/admin/portal/sms/test", {"test_phone": "021-6438"})
    assert bad.status_code == 422 and "请填写一个大陆手机号码" in bad.get_data(as_text=True)
    assert len(provider.requests) == 2
    assert admin.post("/admin/portal/sms", sms_form(endpoint=f"http://127.0.0.1:{free_port()}/",
                                                    access_key_secret="")).status_code == 303
    down = admin.post("/admin/portal/sms/test", {"test_phone": "13900001234"})
    assert down.status_code == 422 and "连不上短信服务商" in down.get_data(as_text=True)


def test_sms_failures_are_listed_with_the_outbox(login_as):
    admin = login_as("admin")
    now = utcnow()
    db.session.add(Outbox(channel="sms", kind="customer:ack", dedupe_key="customer:1:ack:sms:x", status="failed",
                          attempts=8, last_error="SmsError: isv.AMOUNT_NOT_ENOUGH: 账户余额不足", next_attempt_at=now,
                          created_at=now))
    db.session.commit()
    page = admin.get("/admin/reminders").get_data(as_text=True)
    assert "<td>短信</td>" in page and "isv.AMOUNT_NOT_ENOUGH" in page and "给顾客：受理通知" in page


def test_only_the_admin_reaches_the_page(login_as, app):
    login_as("admin")
    for name in ("quality", "manager", "receiver"):
        web = as_user(app, name)
        assert web.get("/admin/portal").status_code == 403
        assert web.post("/admin/portal/sms", sms_form()).status_code == 403
        assert web.post("/admin/portal/public", {"link_days": "7", "privacy": "x"}).status_code == 403
        assert web.post("/admin/portal/sms/test", {"test_phone": "13900001234"}).status_code == 403
    assert sms.sms_config(db.session) is None and portal_config(db.session).link_days == 7


def test_a_save_on_the_same_page_reloads_it_and_the_hotline_reaches_the_customer(login_as, app):
    """htmx alone would only jump to #public (the old messages stay, the toast never comes): the
    answer asks it to reload. The hotline is checked, then shown on the customer's pages and slip."""
    admin = login_as("admin")
    form = {"enabled": "on", "company_name": "鲜味食品", "intro": "", "privacy": "只为处理投诉收集姓名和电话。",
            "link_days": "7", "receiver_id": "", "hotline": "4008 20 1234"}
    here = {"HX-Current-URL": "http://localhost/admin/portal"}
    ok = admin.post("/admin/portal/public", form, htmx=True, headers=dict(here))
    assert ok.status_code == 204 and ok.headers["HX-Redirect"].endswith("/admin/portal#public")
    assert ok.headers["HX-Refresh"] == "true"
    elsewhere = admin.post("/admin/portal/public", form, htmx=True,
                           headers={"HX-Current-URL": "http://localhost/admin/reminders"})
    assert "HX-Refresh" not in elsewhere.headers                  # a real navigation: no reload needed
    bad = admin.post("/admin/portal/public", {**form, "hotline": "call me<script>"}, htmx=True)
    assert bad.status_code == 422 and "客服电话只能有数字" in bad.get_data(as_text=True)
    assert portal_config(db.session).hotline == "4008 20 1234"
    page = app.test_client().get("/track").get_data(as_text=True)
    assert 'href="tel:4008201234"' in page and "4008 20 1234" in page
    warning = admin.get("/admin/portal").get_data(as_text=True)
    assert "KESU_BASE_URL" in warning                              # http://127.0.0.1:8000 is no public address
