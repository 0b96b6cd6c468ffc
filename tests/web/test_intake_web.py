"""The intake form over HTTP: photos, errors that keep the input, idempotency, scope."""
import io
import re
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select

from models import db, utcnow
from models.attachment import Attachment
from models.audit import AuditEvent
from models.complaint import Category, Complaint
from tests.conftest import UPLOAD_DIR, Web

TOKEN_RE = re.compile(r'name="token" type="hidden" value="([0-9a-f]{32})"')


def jpeg(size=(1200, 900), color=(200, 60, 40), exif_make=None) -> bytes:
    img = Image.new("RGB", size, color)
    buf = io.BytesIO()
    if exif_make:
        exif = Image.Exif()
        exif[0x010F] = exif_make  # Make
        img.save(buf, "JPEG", exif=exif)
    else:
        img.save(buf, "JPEG")
    return buf.getvalue()


def category_id(name="异物"):
    return db.session.scalar(select(Category.id).where(Category.name == name))


def count(model=Complaint):
    return db.session.scalar(select(func.count()).select_from(model))


def token_from(web) -> str:
    page = web.get("/receiver/").get_data(as_text=True)
    return TOKEN_RE.search(page).group(1)


def form(web, **overrides):
    data = {"token": token_from(web), "customer_name": "王女士", "customer_phone": "138 1234 5678",
            "content": "月饼里吃出一根头发", "category_id": str(category_id()), "severity": "general",
            "demand": "refund", "type": "complaint", "channel": "walk_in"}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def submit(web, data, htmx=True):
    return web.post("/receiver/new", data, htmx=htmx, content_type="multipart/form-data")


def test_register_with_a_photo_shows_the_number_and_serves_a_clean_copy(login_as):
    web = login_as("receiver")
    resp = submit(web, form(web, photos=[(io.BytesIO(jpeg(exif_make="Apple")), "IMG_0001.JPG")]))
    assert resp.status_code == 204, resp.get_data(as_text=True)
    done = resp.headers["HX-Redirect"]
    complaint = db.session.scalar(select(Complaint))
    assert done == f"/receiver/done/{complaint.id}"
    page = web.get(done).get_data(as_text=True)
    assert complaint.number in page and re.fullmatch(r"TS-\d{6}-0001", complaint.number)
    [att] = complaint.attachments
    assert (att.kind, att.mime, att.name, att.width) == ("image", "image/jpeg", "IMG_0001.JPG", 1200)
    assert Path(UPLOAD_DIR, att.key).is_file()
    assert complaint.events[0].changes["attachments"] == 1
    # The record page shows the thumbnail; the display copy is downscaled and has no EXIF.
    record = web.get(f"/complaints/{complaint.id}").get_data(as_text=True)
    assert f"/complaints/{complaint.id}/files/{att.id}/thumb" in record
    thumb = web.get(f"/complaints/{complaint.id}/files/{att.id}/thumb")
    assert thumb.status_code == 200 and thumb.mimetype == "image/jpeg"
    with Image.open(io.BytesIO(thumb.data)) as img:
        assert max(img.size) == 360 and not img.getexif()
    original = web.get(f"/complaints/{complaint.id}/files/{att.id}")
    assert original.data == jpeg(exif_make="Apple")  # the evidence is kept untouched


def test_errors_come_back_together_keep_the_input_and_the_photo(login_as):
    web = login_as("receiver")
    data = form(web, customer_name="", customer_phone="12345", content="<b>很生气</b>", category_id="",
                photos=[(io.BytesIO(jpeg()), "a.jpg")])
    resp = submit(web, data)
    assert resp.status_code == 422
    body = resp.get_data(as_text=True)
    assert "<html" not in body and 'id="intake"' in body
    for message in ("请填写顾客姓名。", "电话号码格式不对", "请选择投诉类别。"):
        assert message in body
    assert "&lt;b&gt;很生气&lt;/b&gt;" in body and 'value="12345"' in body  # kept, escaped
    assert count() == 0
    [pending] = db.session.scalars(select(Attachment)).all()
    assert pending.complaint_id is None and f"/receiver/pending/{pending.id}/thumb" in body
    assert web.get(f"/receiver/pending/{pending.id}/thumb").status_code == 200
    # Fixed and sent again with the same form token: the photo taken earlier is registered too.
    fixed = form(web, token=data["token"], customer_name="王女士")
    assert submit(web, fixed).status_code == 204
    complaint = db.session.scalar(select(Complaint))
    assert [a.id for a in complaint.attachments] == [pending.id]


@pytest.mark.parametrize("field, value, message", [
    ("customer_phone", "", "请至少留下顾客的电话或电子邮箱"),
    ("customer_phone", "1381234", "电话号码格式不对"),
    ("content", "很" * 10_000, "最多 5000 个字"),
    ("content", "   \u200b ", "请写下发生了什么"),
    ("amount_claimed", "-5", "金额不能是负数"),
    ("amount_claimed", "99999999999", "金额太大了"),
    ("amount_claimed", "十块", "请填写金额数字"),
    ("severity", "catastrophic", "请选择严重程度"),
    ("category_id", "99999999999999", "请选择投诉类别"),
    ("quantity", "-3", "请填写一个合理的整数"),
    ("purchase_date", "2026-13-45", "日期格式不对"),
])
def test_bad_input_gets_a_message_and_creates_nothing(login_as, field, value, message):
    web = login_as("receiver")
    resp = submit(web, form(web, **{field: value}))
    assert resp.status_code == 422 and message in resp.get_data(as_text=True)
    assert count() == 0


def huge_upload(web, data, size):
    """POST a multipart body with a `size`-byte photo, closing the test client's spooled body."""
    import contextvars

    from werkzeug.test import EnvironBuilder
    data = {**data, "photos": (io.BytesIO(b"\xff\xd8\xff" + b"\x00" * size), "big.jpg")}
    builder = EnvironBuilder(path="/receiver/new", method="POST", data=data,
                             headers={"X-CSRFToken": web.token(), "HX-Request": "true"})
    environ = builder.get_environ()
    try:
        db.session.commit()
        resp = contextvars.Context().run(web.client.open, environ)
        resp.close()
        return resp
    finally:
        environ["wsgi.input"].close()
        builder.close()


def test_a_renamed_exe_and_a_huge_upload_are_refused(login_as, app):
    web = login_as("receiver")
    exe = b"MZ\x90\x00" + b"\x00" * 4000
    resp = submit(web, form(web, photos=[(io.BytesIO(exe), "photo.jpg", "image/jpeg")]))
    assert resp.status_code == 422 and "“photo.jpg”不是照片、PDF 或录音文件" in resp.get_data(as_text=True)
    assert count() == 0 and count(Attachment) == 0
    resp = huge_upload(web, form(web), 50 * 1024 * 1024)
    assert resp.status_code == 413 and count() == 0
    # A corrupt JPEG (right magic bytes, garbage inside) is refused by decoding, not by name.
    resp = submit(web, form(web, photos=[(io.BytesIO(b"\xff\xd8\xff\xe0" + b"x" * 5000), "x.jpg")]))
    assert resp.status_code == 422 and "已损坏或无法识别" in resp.get_data(as_text=True)
    assert count() == 0


def test_double_submit_makes_one_complaint(login_as):
    web = login_as("receiver")
    data = form(web)
    first = submit(web, dict(data))
    second = submit(web, dict(data))
    assert first.status_code == second.status_code == 204
    assert first.headers["HX-Redirect"] == second.headers["HX-Redirect"]
    assert count() == 1


def test_post_without_csrf_is_refused(login_as):
    web = login_as("receiver")
    resp = web.post("/receiver/new", form(web), csrf=False, content_type="multipart/form-data")
    assert resp.status_code == 400 and count() == 0


def test_minor_complaint_settled_on_the_spot_goes_to_follow_up(login_as):
    web = login_as("receiver")
    submit(web, form(web, severity="minor", spot_action="当场换了一盒新的", spot_accepted="y"))
    complaint = db.session.scalar(select(Complaint))
    assert complaint.stage == "follow_up" and complaint.spot_accepted
    # Not accepted by the customer: refused with a message.
    resp = submit(web, form(web, severity="minor", spot_action="当场换了一盒新的"))
    assert resp.status_code == 422 and "当场解决须顾客认可" in resp.get_data(as_text=True)


def test_the_form_says_why_a_complaint_became_major_and_the_threshold_is_admin_editable(login_as, app):
    web = login_as("receiver")
    note = web.get("/receiver/new/severity?amount_claimed=60000", htmx=True).get_data(as_text=True)
    assert "将定为重大投诉" in note and "50,000" in note
    assert "将定为重大投诉" not in web.get("/receiver/new/severity?amount_claimed=8000", htmx=True).get_data(as_text=True)
    admin = Web(app.test_client())
    admin.login("admin")
    assert admin.post("/admin/settings", {"major_threshold": "5000", "head_approval_limit": "2000"},
                      htmx=True).status_code == 204
    note = web.get("/receiver/new/severity?amount_claimed=8000", htmx=True).get_data(as_text=True)
    assert "将定为重大投诉" in note and "5,000" in note
    submit(web, form(web, amount_claimed="8000"))
    complaint = db.session.scalar(select(Complaint))
    assert complaint.severity == "major" and complaint.severity_reasons == ["amount"]
    assert "重大投诉，原因" in web.get(f"/receiver/done/{complaint.id}").get_data(as_text=True)


def test_earlier_complaints_by_phone_are_scoped_and_can_be_linked(login_as, app):
    web = login_as("receiver")            # 上海徐汇店
    submit(web, form(web))
    earlier = db.session.scalar(select(Complaint))
    hint = web.get("/receiver/new/earlier?customer_phone=13812345678", htmx=True).get_data(as_text=True)
    assert earlier.number in hint and "之前投诉过 1 次" in hint
    other = Web(app.test_client())
    other.login("pd_clerk")               # 上海浦东店: not theirs to see
    hint = other.get("/receiver/new/earlier?customer_phone=13812345678", htmx=True).get_data(as_text=True)
    assert earlier.number not in hint
    resp = submit(other, form(other, link_kind="repeat", link_id=str(earlier.id)))
    assert resp.status_code == 422 and "不在您的查看范围内" in resp.get_data(as_text=True)
    assert submit(web, form(web, link_kind="repeat", link_id=str(earlier.id))).status_code == 204
    second = db.session.scalars(select(Complaint).order_by(Complaint.id.desc())).first()
    assert second.repeat_of_id == earlier.id
    record = web.get(f"/complaints/{earlier.id}").get_data(as_text=True)
    assert second.number in record


def test_more_details_are_saved_and_html_is_escaped_everywhere(login_as):
    web = login_as("receiver")
    evil = "<script>alert(1)</script>"
    more = web.get("/receiver/new/more", htmx=True).get_data(as_text=True)
    assert 'name="batch_no"' in more and 'name="more" value="1"' in more
    submit(web, form(web, customer_name=evil, content=evil, product_name=evil, batch_no="20261120-2", more="1",
                     quantity="12", purchase_date="2026-11-20", customer_address=evil))
    complaint = db.session.scalar(select(Complaint))
    assert (complaint.batch_no, complaint.quantity, str(complaint.purchase_date)) == ("20261120-2", 12, "2026-11-20")
    for url in (f"/complaints/{complaint.id}", f"/complaints/{complaint.id}/print", "/complaints/",
                f"/receiver/done/{complaint.id}"):
        page = web.get(url).get_data(as_text=True)
        assert evil not in page and "&lt;script&gt;" in page, url


def test_another_stores_complaint_answers_404_everywhere(login_as, app):
    web = login_as("receiver")
    submit(web, form(web, photos=[(io.BytesIO(jpeg()), "a.jpg")]))
    complaint = db.session.scalar(select(Complaint))
    att = complaint.attachments[0]
    other = Web(app.test_client())
    other.login("pd_clerk")
    for url in (f"/complaints/{complaint.id}", f"/complaints/{complaint.id}/print", f"/receiver/done/{complaint.id}",
                f"/complaints/{complaint.id}/files/{att.id}", f"/complaints/{complaint.id}/files/{att.id}/thumb",
                f"/receiver/pending/{att.id}/thumb"):
        assert other.get(url).status_code == 404, url
    assert other.post(f"/complaints/{complaint.id}/reveal").status_code == 404
    assert other.post(f"/receiver/pending/{att.id}/remove").status_code == 404
    assert count(Attachment) == 1


def test_personal_data_is_masked_for_a_handler_and_the_reveal_is_logged(login_as, app, demo):
    from domain import accounts
    from models.org import OrgUnit
    from models.user import User
    cs = db.session.scalar(select(OrgUnit).where(OrgUnit.name == "客服中心"))
    accounts.create_user(db.session, None, username="cs_handler", display_name="客服处理", unit=cs,
                         roles=["handler"], password="demo12345", must_change_password=False, now=utcnow())
    web = login_as("cs1")                  # a receiver of 客服中心
    submit(web, form(web, channel="phone", customer_email="wang@example.com", more="1", customer_address="上海市徐汇区漕溪北路 88 号"))
    complaint = db.session.scalar(select(Complaint))
    handler = Web(app.test_client())
    handler.login("cs_handler")
    page = handler.get(f"/complaints/{complaint.id}").get_data(as_text=True)
    assert "138****5678" in page and "13812345678" not in page and "wang@example.com" not in page
    assert "漕溪北路" not in page and count(AuditEvent.__table__) >= 0
    revealed = handler.post(f"/complaints/{complaint.id}/reveal", htmx=True).get_data(as_text=True)
    assert "13812345678" in revealed and "wang@example.com" in revealed and "漕溪北路" in revealed
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.kind == "pii_revealed"))
    assert event.target == f"complaint:{complaint.id}" and event.actor_id == \
        db.session.scalar(select(User.id).where(User.username == "cs_handler"))
    assert "13812345678" not in str(event.detail)   # the log says who looked, not what they saw
    # The first responder sees it unmasked without a reveal.
    assert "13812345678" in web.get(f"/complaints/{complaint.id}").get_data(as_text=True)


@pytest.mark.parametrize("overrides, message", [
    ({"category_id": "²"}, "请选择投诉类别。"),
    ({"more": "1", "quantity": "²"}, "请填写一个合理的整数。"),
    ({"more": "1", "complained_unit_id": "①"}, "请填写一个合理的整数。"),
    ({"link_kind": "repeat", "link_id": "²"}, "不在您的查看范围内"),
    ({"link_kind": "repeat"}, "请先选中是之前的哪一条投诉"),
    ({"link_kind": "evil"}, "选项无效"),
    ({"more": "1", "customer_class": "platinum"}, "选项无效"),
    ({"more": "1", "urgency": "asap"}, "选项无效"),
    ({"amount_claimed": "NaN"}, "请填写金额数字"),
    ({"amount_claimed": "999999999.999"}, "金额太大了"),
])
def test_odd_numbers_and_choices_get_messages_not_errors(login_as, overrides, message):
    web = login_as("receiver")
    resp = submit(web, form(web, **overrides))
    body = resp.get_data(as_text=True)
    assert resp.status_code == 422 and message in body
    assert count() == 0


def test_full_width_digits_and_browser_line_breaks_are_accepted(login_as):
    web = login_as("receiver")
    text = ("a" * 249 + "\r\n") * 20          # 5,000 characters as the browser counts them
    assert submit(web, form(web, content=text, more="1", quantity="１２")).status_code == 204
    complaint = db.session.scalar(select(Complaint))
    assert complaint.quantity == 12 and len(complaint.content) == 4999  # the last break is trimmed


def test_someone_elses_used_form_gets_a_fresh_token(login_as, app):
    web = login_as("receiver")
    data = form(web)
    submit(web, dict(data))
    other = Web(app.test_client())
    other.login("xh_head")                       # same store, a shared tablet
    resp = submit(other, {**data, "customer_name": "李先生"})
    body = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "已为您换成新表单" in body and "李先生" in body
    fresh = TOKEN_RE.search(body).group(1)
    assert fresh != data["token"]
    assert submit(other, {**data, "token": fresh, "customer_name": "李先生"}).status_code == 204
    assert count() == 2


def test_a_non_image_keeps_a_name_that_says_what_it_is(login_as):
    web = login_as("receiver")
    mp3 = b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\x00" * 100
    assert submit(web, form(web, photos=[(io.BytesIO(mp3), "x.html")])).status_code == 204
    att = db.session.scalar(select(Attachment))
    assert att.name == "x.html.mp3" and att.mime == "audio/mpeg"
    resp = submit(web, form(web, photos=[(io.BytesIO(b"ID3<html><script>alert(1)</script>"), "y.mp3")]))
    assert resp.status_code == 422
    resp = submit(web, form(web, photos=[(io.BytesIO(b"%PDF-junk"), "z.pdf")]))
    assert resp.status_code == 422
