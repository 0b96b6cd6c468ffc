"""The customer's online complaint form over HTTP (SPEC §7): no login, plain HTML forms, the
number on screen; hostile text and files refused as at intake; the honeypot, the idempotency
token, CSRF, the rate limit, the administrator's switch, the page's weight."""
import gzip
import io
import re

from PIL import Image
from sqlalchemy import func, select

from domain.portal import links
from models import db
from models.attachment import Attachment
from models.complaint import Complaint
from models.setting import Setting
from tests.builders import unit
from tests.conftest import Web

SECRET = "test-secret"
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
FORM_TOKEN_RE = re.compile(r'name="token" type="hidden" value="([0-9a-f]{32})"')


def jpeg(color=(200, 60, 40)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (320, 240), color).save(buf, "JPEG")
    return buf.getvalue()


def count(model=Complaint) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def customer(app) -> Web:
    """A customer's phone: no login, CSRF on."""
    return Web(app.test_client())


def csrf_of(page: str) -> str:
    return CSRF_RE.search(page).group(1)


def complaint_form(web, **overrides) -> dict:
    """The form as a customer fills it in (read from the page: its token and CSRF token)."""
    page = web.get("/complain").get_data(as_text=True)
    data = {"csrf_token": csrf_of(page), "token": FORM_TOKEN_RE.search(page).group(1), "customer_name": "李先生",
            "customer_phone": "139 0000 1234", "content": "买的牛奶过期了", "demand": "refund", "privacy_consent": "y"}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def send(web, data, **kw):
    return web.post("/complain", data, csrf=False, content_type="multipart/form-data", **kw)


def pages_off(session=None):
    session = session or db.session
    row = session.get(Setting, "portal") or Setting(key="portal")
    row.value = {"enabled": False}
    session.add(row)
    session.commit()


def newest() -> Complaint:
    return db.session.scalars(select(Complaint).order_by(Complaint.id.desc())).first()


def test_a_customer_complains_with_a_photo_and_sees_the_number_big(app, demo):
    web = customer(app)
    store = unit(db.session, "上海浦东店")
    resp = send(web, complaint_form(web, store_id=str(store.id), order_no="A-778", product_name="鲜牛奶 1L",
                                    photos=[(io.BytesIO(jpeg()), "牛奶.jpg")]))
    assert resp.status_code == 303, resp.get_data(as_text=True)
    c = newest()
    assert resp.headers["Location"] == links.follow_path(SECRET, c)
    assert (c.channel, c.stage, c.complained_unit_id, c.order_no, c.product_name) == \
        ("web", "new", store.id, "A-778", "鲜牛奶 1L")
    assert c.events[0].actor_id is None and c.events[0].changes["by"] == "customer"
    (photo,) = c.attachments
    assert photo.uploaded_by_id is None and photo.kind == "image" and photo.name == "牛奶.jpg"
    assert c.contact_consent is False                        # not ticked: no messages
    page = web.get(resp.headers["Location"])
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "提交成功" in text and f'<p class="number">{c.number}</p>' in text
    assert "请记下这个编号" in text and "接下来" in text
    again = web.get(resp.headers["Location"]).get_data(as_text=True)
    assert "提交成功" not in again and c.number in again     # the banner once; the number always


def test_sms_and_mail_consent_is_a_separate_box_never_ticked_in_advance(app, demo):
    web = customer(app)
    page = web.get("/complain").get_data(as_text=True)
    box = re.search(r'<input[^>]*name="contact_consent"[^>]*>', page).group(0)
    assert "checked" not in box
    assert "checked" not in re.search(r'<input[^>]*name="privacy_consent"[^>]*>', page).group(0)
    assert "不会提供给第三方" in page                            # the privacy notice is on the form
    assert send(web, complaint_form(web, contact_consent="y")).status_code == 303
    assert newest().contact_consent is True


def test_an_empty_form_says_what_is_missing_beside_each_field(app, demo):
    web = customer(app)
    resp = send(web, complaint_form(web, customer_name="", customer_phone="", content="", privacy_consent=None,
                                    demand=None))
    text = resp.get_data(as_text=True)
    assert resp.status_code == 422
    for words in ("请填写您的姓名。", "请至少留下手机号码或电子邮箱，方便我们联系您。", "请写下发生了什么。",
                  "请阅读并同意个人信息保护说明后再提交。"):
        assert words in text, words
    assert "顾客" not in text                                  # the clerk's wording is not the customer's
    assert count() == 0


def test_long_text_is_refused_and_html_is_shown_as_text(app, demo):
    web = customer(app)
    hostile = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    resp = send(web, complaint_form(web, customer_name=hostile[:60], content="长" * 10_000, order_no=hostile[:60]))
    text = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "最多 5000 个字。" in text
    assert "<script>alert" not in text and "<img src=x" not in text and "&lt;script&gt;" in text
    assert count() == 0
    ok = send(web, complaint_form(web, content=hostile))
    assert ok.status_code == 303 and newest().content == hostile          # kept as typed, never as markup
    shown = web.get(ok.headers["Location"]).get_data(as_text=True)
    assert "<script>alert" not in shown


def test_files_are_checked_by_content_and_kept_when_the_form_comes_back(app, demo):
    web = customer(app)
    data = complaint_form(web, customer_name="", photos=[
        (io.BytesIO(b"<html><script>alert(1)</script></html>"), "fake.jpg"),
        (io.BytesIO(b""), "empty.jpg"),
        (io.BytesIO(b"%PDF-1.4\n1 0 obj\n%%EOF"), "receipt.jpg"),
        (io.BytesIO(jpeg()), "one.jpg"), (io.BytesIO(jpeg((0, 90, 0))), "two.jpg"),
        (io.BytesIO(jpeg((0, 0, 90))), "three.jpg"), (io.BytesIO(jpeg((90, 90, 0))), "four.jpg")])
    resp = send(web, data)
    text = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert "“fake.jpg”不是照片，没有保存" in text and "“receipt.jpg”不是照片" in text
    assert "“empty.jpg”：文件是空的（0 字节）" in text
    assert "最多 3 张照片，“four.jpg”没有保存。" in text
    for name in ("one.jpg", "two.jpg", "three.jpg"):
        assert f"<span>{name}</span>" in text                # kept, and shown by name
    assert count() == 0 and count(Attachment) == 3
    token = data["token"]
    assert FORM_TOKEN_RE.search(text).group(1) == token
    more = send(web, {**complaint_form(web), "token": token, "photos": [(io.BytesIO(jpeg()), "five.jpg")]})
    assert more.status_code == 422 and "最多 3 张照片，“five.jpg”没有保存。" in more.get_data(as_text=True)
    done = send(web, {**complaint_form(web), "token": token})
    assert done.status_code == 303
    assert sorted(a.name for a in newest().attachments) == ["one.jpg", "three.jpg", "two.jpg"]


def test_a_kept_photo_can_be_taken_off_the_form_without_javascript(app, demo):
    web = customer(app)
    data = complaint_form(web, content="", photos=[(io.BytesIO(jpeg()), "wrong.jpg")])
    assert send(web, data).status_code == 422
    (kept,) = db.session.scalars(select(Attachment)).all()
    resp = send(web, {**complaint_form(web), "token": data["token"], "remove": str(kept.id)})
    assert resp.status_code == 200 and "wrong.jpg" not in resp.get_data(as_text=True)
    assert count(Attachment) == 0 and count() == 0            # removing registers nothing


def test_the_honeypot_stores_nothing_and_says_nothing_useful(app, demo):
    web = customer(app)
    resp = send(web, complaint_form(web, website="http://spam.example", photos=[(io.BytesIO(jpeg()), "a.jpg")]))
    text = resp.get_data(as_text=True)
    assert resp.status_code == 400 and "提交未成功" in text and "website" not in text
    assert count() == 0 and count(Attachment) == 0


def test_a_double_submit_is_one_complaint(app, demo):
    web = customer(app)
    data = complaint_form(web, photos=[(io.BytesIO(jpeg()), "a.jpg")])
    first = send(web, data)
    second = send(web, {**data, "photos": [(io.BytesIO(jpeg()), "a.jpg")]})
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    assert count() == 1 and count(Attachment) == 1


def test_without_the_csrf_token_nothing_is_stored(app, demo):
    web = customer(app)
    data = complaint_form(web)
    del data["csrf_token"]
    resp = send(web, data)
    assert resp.status_code == 400 and "页面已过期" in resp.get_data(as_text=True)
    assert count() == 0


def test_another_units_id_or_junk_is_a_message_on_the_field(app, demo):
    web = customer(app)
    values = (str(unit(db.session, "生产部").id), "abc", "99999999999", "-3", "1; DROP TABLE complaint")
    for i, value in enumerate(values):      # from several addresses: the per-address limit is not the point
        resp = send(web, complaint_form(web, store_id=value), environ_base={"REMOTE_ADDR": f"10.9.0.{i}"})
        assert resp.status_code == 422 and "请从列表中选择门店。" in resp.get_data(as_text=True), value
    resp = send(web, complaint_form(web, demand="everything"), environ_base={"REMOTE_ADDR": "10.9.1.1"})
    assert resp.status_code == 422 and "选项无效，请重新选择。" in resp.get_data(as_text=True)
    assert count() == 0


def test_posting_too_often_gets_a_friendly_page(app, demo):
    web = customer(app)
    codes = [send(web, complaint_form(web, content="")).status_code for _ in range(6)]
    assert codes == [422] * 5 + [429]          # default: 5 per minute per address
    text = send(web, complaint_form(web)).get_data(as_text=True)
    assert "提交太频繁了" in text and "请稍等" in text
    other = Web(app.test_client())
    page = other.get("/complain", environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert page.status_code == 200                # reading the form is never limited


def test_the_limit_is_the_apps_config(make_app, demo):
    app = make_app(PUBLIC_COMPLAIN_RATE_LIMIT="1 per minute")
    web = customer(app)
    codes = [send(web, complaint_form(web, content="")).status_code for _ in range(2)]
    assert codes == [422, 429]


def test_pages_turned_off_say_so_and_healthz_still_answers(app, demo):
    from tests.builders import make_complaint
    c = make_complaint(db.session, "new")
    db.session.commit()
    pages_off()
    web = customer(app)
    for path in ("/complain", "/track", f"/track/{c.number}", links.follow_path(SECRET, c), "/survey/" + "a" * 16):
        resp = web.get(path)
        assert resp.status_code == 503 and "暂停服务" in resp.get_data(as_text=True), path
        assert resp.headers["Cache-Control"] == "no-store"
    assert send(web, {"csrf_token": csrf_of(web.get("/login").get_data(as_text=True))}).status_code == 503
    assert web.get("/healthz").status_code == 200


def test_customer_pages_are_never_cached_and_carry_no_inline_code(app, demo):
    web = customer(app)
    resp = web.get("/complain")
    text = resp.get_data(as_text=True)
    assert resp.headers["Cache-Control"] == "no-store" and resp.headers["Referrer-Policy"] == "no-referrer"
    assert "script-src 'self'" in resp.headers["Content-Security-Policy"]
    assert "<script" not in text and "style=" not in text and "<style" not in text
    assert "app.css" not in text and "htmx" not in text           # the light frame only


def gzipped(web, path) -> int:
    resp = web.get(path, headers={"Accept-Encoding": "gzip"})
    assert resp.status_code == 200, path
    body = resp.get_data()
    return len(body) if resp.headers.get("Content-Encoding") == "gzip" else len(gzip.compress(body))


def first_load(web, path) -> int:
    """The page and what it loads (its stylesheet and icon), gzip as served."""
    page = web.get(path).get_data(as_text=True)
    assets = re.findall(r'(?:href|src)="(/static/[^"]+)"', page)
    return gzipped(web, path) + sum(gzipped(web, a) for a in assets)


def test_each_customer_page_weighs_under_30_kb_on_first_load(app, demo):
    web = customer(app)
    assert send(web, complaint_form(web)).status_code == 303
    sizes = {path: first_load(web, path) for path in ("/complain", "/track", links.follow_path(SECRET, newest()))}
    print("first load, gzip bytes:", sizes)
    assert all(size <= 30 * 1024 for size in sizes.values()), sizes
