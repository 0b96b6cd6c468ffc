"""Files after intake (SPEC §2 Attachments) and reply templates (SPEC §3): the `attach` action and
the answer's file, the limits, the zero-byte message; the placeholders' substitution, which
templates a complaint is offered, and the administrator's changes."""
import io
from decimal import Decimal
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select

from domain import attachments, replies, workflow
from domain.errors import InvalidInput, NotAllowed
from domain.workflow.files import carries_files, new_token
from models.audit import AuditEvent
from models.complaint import Category
from tests.builders import NOW, act, category_id, make_complaint, register, user
from tests.conftest import UPLOAD_DIR

ROOT = Path(UPLOAD_DIR)


def jpeg():
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), "red").save(buf, "JPEG")
    return buf.getvalue()


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def upload(session, who, name="检测报告.pdf", data=PDF, token=None, **kw):
    """A file `who` sent with a form: kept pending under the form's token (as the screen does)."""
    token = token or new_token()
    attachments.store(session, ROOT, user(session, who), io.BytesIO(data), name, token, now=NOW, **kw)
    return token


# --- placeholders -------------------------------------------------------------------------------

def test_fill_replaces_the_known_placeholders_and_keeps_the_rest_as_typed():
    values = {"顾客姓名": "王女士", "投诉编号": "TS-202611-0001", "金额": "68.00", "商品": None}
    text = "{顾客姓名}您好：投诉 {投诉编号} 退款 {金额} 元（{金额}）；{商品}；{门店}；{ 顾客姓名 }；{{投诉编号}}；{}"
    assert replies.fill(text, values) == \
        "王女士您好：投诉 TS-202611-0001 退款 68.00 元（68.00）；{商品}；{门店}；{ 顾客姓名 }；{TS-202611-0001}；{}"
    assert replies.fill("", values) == "" and replies.fill("没有占位符", values) == "没有占位符"


def test_values_prefer_the_amount_being_typed(session, company):
    c = make_complaint(session, "pending_approval", extra={"product_name": "五仁月饼"})   # proposal: 68 yuan
    assert replies.values_for(c) == {"顾客姓名": "王女士", "投诉编号": c.number, "金额": "68.00", "商品": "五仁月饼"}
    assert replies.values_for(c, Decimal("1234.5"))["金额"] == "1,234.50"
    fresh = register(session)
    assert replies.values_for(fresh)["金额"] is None and replies.values_for(fresh)["商品"] is None
    assert replies.fill("退款{金额}元", replies.values_for(fresh)) == "退款{金额}元"   # no amount yet: stays


# --- which templates a complaint is offered ------------------------------------------------------

def test_a_complaint_is_offered_its_category_its_parent_and_all(session, company):
    admin = user(session, "admin")
    sub = session.get(Category, category_id(session, "异物"))
    other = session.scalar(select(Category).where(Category.parent_id.is_(None), Category.id != sub.parent_id))
    made = {name: replies.add(session, admin, title=name, body="…", category_id=cid, now=NOW)
            for name, cid in (("通用", None), ("上级", sub.parent_id), ("本类", sub.id), ("别的", other.id))}
    off = replies.add(session, admin, title="停用的", body="…", category_id=None, now=NOW)
    replies.set_active(session, admin, off, False, now=NOW)
    c = register(session, category_id=sub.id)
    assert [t.title for t in replies.for_complaint(session, c)] == ["本类", "上级", "通用"]
    assert replies.offered(session, c, made["别的"].id) is None and replies.offered(session, c, off.id) is None
    assert replies.offered(session, c, made["本类"].id) is made["本类"]
    top = register(session, category_id=other.id)                          # a top-level category
    assert [t.title for t in replies.for_complaint(session, top)] == ["别的", "通用"]


def test_only_the_admin_changes_templates_and_each_change_is_audited(session, company):
    admin = user(session, "admin")
    with pytest.raises(NotAllowed):
        replies.add(session, user(session, "handler"), title="x", body="y", category_id=None, now=NOW)
    with pytest.raises(InvalidInput) as err:
        replies.add(session, admin, title="  ", body="", category_id=999_999, now=NOW)
    assert {p.field for p in err.value.problems} == {"title", "body", "category_id"}
    with pytest.raises(InvalidInput):
        replies.add(session, admin, title="长" * 41, body="y", category_id=None, now=NOW)
    t = replies.add(session, admin, title="致歉", body="{顾客姓名}您好", category_id=None, now=NOW)
    replies.update(session, admin, t, title="致歉信", body="{顾客姓名}您好！", category_id=category_id(session), now=NOW)
    replies.update(session, admin, t, title="致歉信", body="{顾客姓名}您好！", category_id=category_id(session), now=NOW)
    replies.set_active(session, admin, t, False, now=NOW)
    assert (t.title, t.body, t.active) == ("致歉信", "{顾客姓名}您好！", False)
    trail = session.scalars(select(AuditEvent).where(AuditEvent.kind == replies.CHANGED)).all()
    assert [e.detail["action"] for e in trail] == ["add", "edit", "deactivate"]   # no change: no event
    assert {e.target for e in trail} == {f"reply_template:{t.id}"}


def test_seed_defaults_only_into_an_empty_table(session, company):
    assert replies.seed_defaults(session, user(session, "admin"), now=NOW) == len(replies.DEFAULTS)
    assert replies.seed_defaults(session, user(session, "admin"), now=NOW) == 0


# --- files after intake --------------------------------------------------------------------------

def test_the_handler_attaches_evidence_as_an_event_with_the_stage(session, company):
    c = make_complaint(session, "investigating", investigator="handler2")
    version = c.version
    token = upload(session, "handler2", "检测报告.pdf")
    upload(session, "handler2", "现场.jpg", jpeg(), token=token)
    act(session, "handler2", c, "attach", upload_token=token, note="第三方检测")
    assert [(a.name, a.stage, a.uploaded_by.username) for a in c.attachments] == \
        [("检测报告.pdf", "investigating", "handler2"), ("现场.jpg", "investigating", "handler2")]
    event = c.events[-1]
    assert (event.kind, event.changes, event.comment) == ("attach", {"files": ["检测报告.pdf", "现场.jpg"]},
                                                          "检测报告.pdf、现场.jpg\n第三方检测")
    assert c.version == version + 1 and c.stage == "investigating"
    assert attachments.pending(session, token, user(session, "handler2")) == []


def test_attach_needs_a_file_and_claims_only_ones_own(session, company):
    c = make_complaint(session, "investigating", investigator="handler2")
    with pytest.raises(InvalidInput) as err:
        act(session, "handler2", c, "attach", upload_token=new_token())
    assert err.value.field == "files"
    theirs = upload(session, "quality")                       # someone else's pending file, same token
    with pytest.raises(InvalidInput):
        act(session, "handler2", c, "attach", upload_token=theirs)
    with pytest.raises(InvalidInput):
        act(session, "handler2", c, "attach", upload_token="../../etc")


@pytest.mark.parametrize("who, may", [
    ("quality", True), ("manager", True),          # dispatchers
    ("handler2", True), ("prod_head", True),       # the responsible department (and its head)
    ("receiver", True), ("xh_head", True),         # the first responder, the store
    ("handler", False), ("receiver2", False), ("market", False), ("admin", False),
])
def test_who_may_attach(session, company, who, may):
    c = make_complaint(session, "investigating", investigator="handler2")
    assert (workflow.refusal(session, user(session, who), c, "attach") is None) is may


def test_files_can_be_added_at_every_stage_even_closed(session, company):
    c = make_complaint(session, "closed")
    act(session, "quality", c, "attach", upload_token=upload(session, "quality", "回访录音.pdf"))
    assert c.stage == "closed" and c.attachments[-1].stage == "closed"
    inquiry = register(session, type="inquiry")
    act(session, "receiver", inquiry, "attach", upload_token=upload(session, "receiver"))
    assert inquiry.attachments[-1].stage == "new"


def test_the_answer_carries_its_file(session, company):
    c = make_complaint(session, "executing", investigator="handler2")
    assert carries_files(workflow.ACTIONS["answer"]) and carries_files(workflow.ACTIONS["attach"])
    assert not carries_files(workflow.ACTIONS["propose"])
    token = upload(session, "handler2", "答复函.pdf")
    act(session, "handler2", c, "answer", method="letter", accepted=True, note="顾客认可", upload_token=token)
    assert [(a.name, a.stage) for a in c.attachments] == [("答复函.pdf", "executing")]
    event = c.events[-1]
    assert event.kind == "answer" and event.changes["files"] == ["答复函.pdf"]
    assert event.comment == "答复函.pdf\n顾客认可" and c.answer_note == "顾客认可"
    other = make_complaint(session, "executing", investigator="handler2")
    act(session, "handler2", other, "answer", method="phone", accepted=True)   # without a file, as before
    assert other.attachments == [] and "files" not in other.events[-1].changes


def test_a_zero_byte_file_is_refused_with_a_message(session, company):
    with pytest.raises(InvalidInput) as err:
        upload(session, "receiver", "IMG_0001.jpg", b"")
    assert err.value.message == "“%(name)s”：文件是空的（0 字节），请重新拍照或选择文件。"
    assert err.value.params == {"name": "IMG_0001.jpg"}
    assert attachments.store(session, ROOT, user(session, "receiver"), io.BytesIO(b""), "", new_token(),
                             now=NOW) is None                     # a file field left empty is no file


def test_nine_per_form_thirty_per_complaint(session, company, monkeypatch):
    with pytest.raises(InvalidInput) as err:
        upload(session, "handler2", already=attachments.MAX_FILES)
    assert "一次最多" in err.value.message and err.value.field == "photos"
    with pytest.raises(InvalidInput) as err:
        upload(session, "handler2", on_record=attachments.MAX_TOTAL - 1, already=1, field="files")
    assert "上限" in err.value.message and err.value.field == "files"
    upload(session, "handler2", on_record=attachments.MAX_TOTAL - 1)     # the 30th fits
    # Claiming checks again (two forms filled at once could pass the limit together).
    c = make_complaint(session, "investigating", investigator="handler2")
    monkeypatch.setattr(attachments, "MAX_TOTAL", 1)
    token = upload(session, "handler2", "a.pdf")
    upload(session, "handler2", "b.pdf", token=token)
    with pytest.raises(InvalidInput) as err:
        act(session, "handler2", c, "attach", upload_token=token)
    assert err.value.field == "files"
