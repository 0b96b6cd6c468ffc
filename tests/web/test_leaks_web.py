"""Issue 13, leaks found in a hostile review: Excel cells that turn into formulas, files left in
the browser cache, a CR/LF in ?next=, and masked phones recovered by prefix search."""
import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from domain import halfyear
from models import db
from models.audit import AuditEvent
from models.attachment import Attachment
from models.complaint import Complaint
from models.org import OrgUnit
from models.user import User
from tests.conftest import Web
from tests.domain.test_halfyear import DAY, NOV, PERIOD, attributed_with_penalty
from tests.web.test_intake_web import form, jpeg, submit

EVIL_PERSON = '=HYPERLINK("http://evil.example/","点这里")'
EVIL_STORE, EVIL_DEPT, EVIL_SELLER = "+1", "-2", "@SUM(A1)"


def user(username):
    return db.session.scalar(select(User).where(User.username == username))


def unit(name):
    return db.session.scalar(select(OrgUnit).where(OrgUnit.name == name))


def cells(resp):
    assert resp.status_code == 200, resp.status_code
    book = load_workbook(io.BytesIO(resp.get_data()))
    return [c for ws in book.worksheets for row in ws.iter_rows() for c in row if c.value is not None]


def test_names_that_look_like_formulas_are_exported_as_text(login_as, app):
    quality = login_as("quality")
    attributed_with_penalty(db.session)   # November: complaints by 陈晓 at 上海徐汇店, a penalty on 曹阳 of 销售部
    user("receiver").display_name = EVIL_PERSON
    user("sales2").display_name = EVIL_SELLER
    unit("上海徐汇店").name = EVIL_STORE
    unit("销售部").name = EVIL_DEPT
    report, _created = halfyear.generate(db.session, *PERIOD, NOV + 30 * DAY)
    db.session.commit()
    period = {"from": "2026-06-01", "to": "2026-11-30"}
    exports = {
        "ledger by person": quality.get("/complaints/ledger.xlsx", query_string={**period, "by": "person"}),
        "ledger by store": quality.get("/complaints/ledger.xlsx", query_string={**period, "by": "store"}),
        "penalties by unit": quality.get("/complaints/penalties", query_string={**period, "format": "xlsx"}),
        "penalties by person": quality.get("/complaints/penalties",
                                           query_string={**period, "format": "xlsx", "by": "person"}),
        "half-year": quality.get(f"/complaints/half-year/{report.id}.xlsx"),
    }
    expected = {"ledger by person": {EVIL_PERSON, EVIL_STORE}, "ledger by store": {EVIL_STORE},
                "penalties by unit": {EVIL_DEPT}, "penalties by person": {EVIL_SELLER, EVIL_DEPT},
                "half-year": {EVIL_STORE, EVIL_DEPT, EVIL_SELLER}}
    for name, resp in exports.items():
        found = cells(resp)
        assert [c.coordinate for c in found if c.data_type == "f"] == [], name
        texts = {c.value for c in found if c.data_type == "s"}
        assert expected[name] <= texts, (name, texts)
        assert all(c.quotePrefix for c in found if c.value in expected[name]), name


def test_exports_and_files_are_never_cached(login_as, app):
    web = login_as("receiver")
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    # a photo left behind by an invalid form: its preview is served before the complaint exists
    submit(web, form(web, customer_name="", photos=[(io.BytesIO(jpeg()), "a.jpg")]))
    pending = db.session.scalar(select(Attachment))
    urls = [f"/receiver/pending/{pending.id}/thumb"]
    assert submit(web, form(web, photos=[(io.BytesIO(jpeg()), "b.jpg"), (io.BytesIO(pdf), "小票.pdf")])).status_code == 204
    complaint = db.session.scalar(select(Complaint))
    photo, receipt = sorted(complaint.attachments, key=lambda a: a.kind != "image")
    assert receipt.kind == "pdf"
    urls += [f"/complaints/{complaint.id}/files/{photo.id}", f"/complaints/{complaint.id}/files/{photo.id}/display",
             f"/complaints/{complaint.id}/files/{photo.id}/thumb", f"/complaints/{complaint.id}/files/{receipt.id}",
             f"/complaints/{complaint.id}/print"]
    for url in urls:
        resp = web.get(url)
        assert resp.status_code == 200 and resp.headers["Cache-Control"] == "no-store", url
        assert "Expires" not in resp.headers, url
    quality = Web(app.test_client())
    quality.login("quality")
    for url in ("/complaints/ledger.xlsx", "/complaints/penalties?format=xlsx"):
        resp = quality.get(url)
        assert resp.status_code == 200 and resp.headers["Cache-Control"] == "no-store", url
    report, _created = halfyear.generate(db.session, *PERIOD, NOV + 30 * DAY)
    db.session.commit()
    resp = quality.get(f"/complaints/half-year/{report.id}.xlsx")
    assert resp.status_code == 200 and resp.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("evil", ["/complaints/\r\nSet-Cookie:x=1", "/complaints/\nLocation:https://evil.example/",
                                  "/complaints/\t", "/complaints/\x7f"])
def test_a_line_break_in_next_lands_on_the_home_page(demo, web, evil):
    page = web.get("/login", query_string={"next": evil})
    assert page.status_code == 200
    assert "Set-Cookie:x" not in page.get_data(as_text=True)
    resp = web.login("receiver", next=evil)
    assert resp.status_code == 303 and resp.headers["Location"] == "/receiver/", resp.status_code
    assert "x=1" not in " ".join(resp.headers.getlist("Set-Cookie"))


def test_a_masked_phone_is_found_by_the_whole_number_only_and_the_search_is_logged(login_as, app):
    from tests.builders import act, make_complaint, unit
    from tests.web.test_registry import numbers
    shown = make_complaint(db.session, "investigating", customer_phone="13812345678")   # 生产部: handler2 sees the phone
    masked = make_complaint(db.session, "investigating", customer_phone="13812349999")
    act(db.session, "quality", masked, "reassign", unit_id=unit(db.session, "销售部").id)   # 生产部 still sees it, masked
    db.session.commit()
    handler = login_as("handler2")
    assert "138****9999" in handler.get(f"/complaints/{masked.id}").get_data(as_text=True)
    assert numbers(handler.get("/complaints/?q=1381234")) == [shown.number]
    assert numbers(handler.get("/complaints/?q=138123499")) == []
    assert numbers(handler.get("/complaints/?q=13812349999")) == [masked.number]
    assert numbers(handler.get("/complaints/?q=138-1234-9999")) == [masked.number]
    assert "共 1 条" in handler.get("/complaints/count?q=1381234", htmx=True).get_data(as_text=True)
    handler2 = user("handler2").id
    logged = db.session.scalars(select(AuditEvent).where(AuditEvent.kind == "phone_searched")
                                .order_by(AuditEvent.id)).all()
    assert [(e.actor_id, e.target) for e in logged] == [(handler2, "complaints:search")] * 5
    assert [e.detail for e in logged] == [{"complaints": [shown.id]}, {"complaints": []}, {"complaints": [masked.id]},
                                          {"complaints": [masked.id]}, {"matches": 1}]
    assert not any("1381234" in f"{e.target}{e.detail}" for e in logged)   # who searched, never the number
    assert numbers(handler.get("/complaints/?q=王女士")) == [masked.number, shown.number]   # names: not logged
    assert len(db.session.scalars(select(AuditEvent).where(AuditEvent.kind == "phone_searched")).all()) == 5

    # The receiver who took both calls sees both phones, and keeps the prefix search.
    receiver = Web(app.test_client())
    receiver.login("receiver")
    assert set(numbers(receiver.get("/complaints/?q=1381234"))) == {shown.number, masked.number}
    # Quality sees every phone: prefix search, nothing to log.
    quality = Web(app.test_client())
    quality.login("quality")
    assert set(numbers(quality.get("/complaints/?q=1381234"))) == {shown.number, masked.number}
    assert not db.session.scalars(select(AuditEvent).where(AuditEvent.kind == "phone_searched",
                                                           AuditEvent.actor_id == user("quality").id)).all()
