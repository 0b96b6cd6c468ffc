"""Files after intake and reply templates on the screens: the attach form (multipart, its token,
CSRF, scope), the answer's file, a zero-byte file said at intake and after, the record page's
files with who/when/stage; the admin's reply templates page and the picker that fills the text."""
import io
import re

from PIL import Image
from sqlalchemy import func, select

from domain import replies
from models import db
from models.attachment import Attachment
from models.complaint import Complaint
from models.reply import ReplyTemplate
from tests.builders import NOW, as_user, category_id, make_complaint, user

TOKEN_RE = re.compile(r'name="upload_token" value="([0-9a-f]{32})"')
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def jpeg():
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 60, 40)).save(buf, "JPEG")
    return buf.getvalue()


def open_form(web, c, action):
    page = web.get(f"/complaints/{c.id}/act/{action}", htmx=True)
    assert page.status_code == 200, page.status_code
    return page.get_data(as_text=True)


def post_files(web, c, action, files, **data):
    """The action's form as a browser sends it: multipart, with the form's upload token."""
    token = data.pop("upload_token", None) or TOKEN_RE.search(open_form(web, c, action)).group(1)
    db.session.refresh(c)
    body = {"version": str(c.version), "upload_token": token, **data,
            "files": [(io.BytesIO(content), name) for name, content in files]}
    return web.post(f"/complaints/{c.id}/act/{action}", body, htmx=True, content_type="multipart/form-data")


def test_the_handler_attaches_evidence_shown_with_who_when_and_stage(app, demo):
    c = make_complaint(db.session, "investigating", investigator="handler2")
    handler = as_user(app, "handler2")
    record = handler.get(f"/complaints/{c.id}").get_data(as_text=True)
    assert f"/complaints/{c.id}/act/attach" in record                       # the 照片和附件 section's button
    form = open_form(handler, c, "attach")
    assert 'enctype="multipart/form-data"' in form and 'hx-encoding="multipart/form-data"' in form
    assert 'name="files"' in form and 'multiple' in form and 'name="csrf_token"' in form
    assert 'accept="image/*,application/pdf,audio/*"' in form
    resp = post_files(handler, c, "attach", [("检测报告.pdf", PDF), ("现场.jpg", jpeg())], note="第三方检测")
    assert resp.status_code == 204, resp.get_data(as_text=True)
    db.session.refresh(c)
    assert [(a.name, a.stage) for a in c.attachments] == [("检测报告.pdf", "investigating"), ("现场.jpg", "investigating")]
    record = handler.get(f"/complaints/{c.id}").get_data(as_text=True)
    files = record[record.index('id="files"'):record.index("处理记录")]
    assert "调查处理中 · 刘洋 ·" in files and "检测报告.pdf" in files
    assert f"/complaints/{c.id}/files/{c.attachments[1].id}/thumb" in files
    timeline = record[record.index("处理记录"):]
    assert "添加附件" in timeline and "检测报告.pdf、现场.jpg" in timeline and "第三方检测" in timeline
    thumb = handler.get(f"/complaints/{c.id}/files/{c.attachments[1].id}/thumb")
    assert thumb.status_code == 200 and thumb.mimetype == "image/jpeg"


def test_bad_files_are_said_and_the_form_keeps_what_was_typed(app, demo):
    c = make_complaint(db.session, "investigating", investigator="handler2")
    handler = as_user(app, "handler2")
    resp = post_files(handler, c, "attach", [("IMG_0001.jpg", b""), ("a.exe", b"MZ\x90\x00" * 10)], note="补充说明")
    body = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert "“IMG_0001.jpg”：文件是空的（0 字节），请重新拍照或选择文件。" in body
    assert "“a.exe”不是照片、PDF 或录音文件" in body and "补充说明" in body     # the note is kept
    assert db.session.scalar(select(func.count()).select_from(Attachment)) == 0
    resp = post_files(handler, c, "attach", [])                              # nothing chosen
    assert resp.status_code == 422 and "请选择要添加的文件" in resp.get_data(as_text=True)


def test_a_form_sent_back_keeps_its_files_and_the_answer_carries_them(app, demo):
    c = make_complaint(db.session, "executing", investigator="handler2")
    handler = as_user(app, "handler2")
    form = open_form(handler, c, "answer")
    assert 'enctype="multipart/form-data"' in form and 'name="files"' in form
    token = TOKEN_RE.search(form).group(1)
    resp = post_files(handler, c, "answer", [("答复函.pdf", PDF)], upload_token=token, method="letter")  # no "accepted"
    body = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "请选择顾客是否认可" in body
    assert "答复函.pdf" in body and f'value="{token}"' in body and "已保存，提交时一起添加" in body
    resp = post_files(handler, c, "answer", [], upload_token=token, method="letter", accepted="yes")
    assert resp.status_code == 204, resp.get_data(as_text=True)
    db.session.refresh(c)
    assert c.stage == "follow_up" and [(a.name, a.stage) for a in c.attachments] == [("答复函.pdf", "executing")]


def test_attach_is_for_those_who_act_on_the_complaint_and_needs_csrf(app, demo):
    c = make_complaint(db.session, "investigating", investigator="handler2")
    assert as_user(app, "receiver2").get(f"/complaints/{c.id}/act/attach").status_code == 404    # not in scope
    market = as_user(app, "market")                                         # another department
    assert market.get(f"/complaints/{c.id}/act/attach").status_code == 404
    handler = as_user(app, "handler2")
    token = TOKEN_RE.search(open_form(handler, c, "attach")).group(1)
    resp = handler.post(f"/complaints/{c.id}/act/attach", {"version": str(c.version), "upload_token": token,
                        "files": [(io.BytesIO(PDF), "x.pdf")]}, csrf=False, content_type="multipart/form-data")
    assert resp.status_code == 400
    assert db.session.scalar(select(func.count()).select_from(Attachment)) == 0
    quality = as_user(app, "quality")                                       # quality, at any stage
    assert post_files(quality, c, "attach", [("验证.pdf", PDF)]).status_code == 204


def test_a_zero_byte_photo_at_intake_is_said_and_the_form_kept(login_as):
    web = login_as("receiver")
    page = web.get("/receiver/").get_data(as_text=True)
    token = re.search(r'name="token" type="hidden" value="([0-9a-f]{32})"', page).group(1)
    before = db.session.scalar(select(func.count()).select_from(Complaint))
    resp = web.post("/receiver/new", {"token": token, "customer_name": "王女士", "customer_phone": "13812345678",
                                      "content": "月饼里有头发", "category_id": str(category_id(db.session)),
                                      "severity": "general", "type": "complaint", "channel": "walk_in",
                                      "photos": [(io.BytesIO(b""), "IMG_0002.jpg")]},
                    htmx=True, content_type="multipart/form-data")
    body = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "文件是空的（0 字节），请重新拍照或选择文件。" in body
    assert "月饼里有头发" in body and 'value="王女士"' in body                 # what was typed is kept
    assert db.session.scalar(select(func.count()).select_from(Complaint)) == before


# --- reply templates ------------------------------------------------------------------------------

def test_admin_keeps_reply_templates(app, demo):
    admin = as_user(app, "admin")
    page = admin.get("/admin/replies").get_data(as_text=True)
    assert "还没有答复模板" in page and "答复模板是常用的答复顾客的话" in page    # the empty state says what for
    assert 'href="/admin/replies"' in page and 'aria-current="page"' in page
    bad = admin.post("/admin/replies/new", {"title": "", "body": "", "category_id": ""}, htmx=True)
    assert bad.status_code == 422 and "请填写模板名称" in bad.get_data(as_text=True)
    resp = admin.post("/admin/replies/new", {"title": "致歉", "body": "{顾客姓名}您好，退款{金额}元。",
                                             "category_id": str(category_id(db.session))}, htmx=True)
    assert resp.status_code == 204 and resp.headers["HX-Redirect"] == "/admin/replies"
    t = db.session.scalar(select(ReplyTemplate))
    assert (t.title, t.category.name, t.active) == ("致歉", "异物", True)
    edit = admin.get(f"/admin/replies/{t.id}").get_data(as_text=True)
    assert "{顾客姓名}您好，退款{金额}元。" in edit
    assert admin.post(f"/admin/replies/{t.id}", {"title": "致歉信", "body": "您好", "category_id": ""},
                      htmx=True).status_code == 204
    assert admin.post(f"/admin/replies/{t.id}/deactivate", {}).status_code == 303
    db.session.refresh(t)
    assert (t.title, t.category_id, t.active) == ("致歉信", None, False)
    page = admin.get("/admin/replies").get_data(as_text=True)
    assert "致歉信" in page and "已停用" in page and "全部类别" in page
    assert as_user(app, "handler").get("/admin/replies").status_code == 403


def test_the_handler_picks_a_template_filled_for_the_complaint(app, demo):
    admin = user(db.session, "admin")
    mine = replies.add(db.session, admin, title="致歉退款", body="{顾客姓名}您好：{投诉编号}，退款{金额}元。{门店}",
                       category_id=category_id(db.session), now=NOW)
    general = replies.add(db.session, admin, title="通用说明", body="{顾客姓名}您好", category_id=None, now=NOW)
    elsewhere = replies.add(db.session, admin, title="物流", body="x", category_id=category_id(db.session, "交货"),
                            now=NOW)
    c = make_complaint(db.session, "investigating", investigator="handler2")
    handler = as_user(app, "handler2")
    form = open_form(handler, c, "propose")
    picker = form[form.index('id="reply-pick-text"'):form.index("</select>")]
    assert "致歉退款" in picker and "通用说明" in picker and "物流" not in picker
    assert f'hx-get="/complaints/{c.id}/reply/text"' in form and 'hx-target="#act-text"' in form
    filled = handler.get(f"/complaints/{c.id}/reply/text?reply_template={mine.id}&amount=68", htmx=True)
    assert filled.status_code == 200
    assert f'<textarea id="act-text" name="text"' in filled.get_data(as_text=True)
    assert f"王女士您好：{c.number}，退款68.00元。{{门店}}</textarea>" in filled.get_data(as_text=True)
    assert handler.get(f"/complaints/{c.id}/reply/text?reply_template={elsewhere.id}").status_code == 204
    assert handler.get(f"/complaints/{c.id}/reply/text?reply_template=").status_code == 204
    assert as_user(app, "receiver2").get(f"/complaints/{c.id}/reply/text?reply_template={general.id}").status_code == 404
    # The answer's note gets the same picker (the approved amount fills {金额}).
    c2 = make_complaint(db.session, "executing", investigator="handler2")
    assert 'id="reply-pick-note"' in open_form(handler, c2, "answer")
    note = handler.get(f"/complaints/{c2.id}/reply/note?reply_template={mine.id}", htmx=True).get_data(as_text=True)
    assert 'name="note"' in note and "退款68.00元" in note
