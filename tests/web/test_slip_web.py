"""Issue 16, the staff side of the customer's side: the walk-in customer's slip (/complaints/<id>/slip,
80 mm and A4) with the number, the store, the expected answer date and a QR code of the progress
link; the clerk's consent box at intake; the done page's slip buttons; the record's timeline and
files naming the customer (顾客) where no member of staff acted."""
import io
import re
from pathlib import Path

import segno
from PIL import Image

from domain import attachments
from domain.portal import config as portal, links, online, steps
from domain.portal.view import expectation
from domain.workflow.customer import Customer
from models import db
from tests.builders import NOW, TZ, act, as_user, make_complaint, register_on_screen, user
from tests.conftest import UPLOAD_DIR

BASE = "https://kesu.example.com"
PHONE, EMAIL = "13812345678", "wang.slip@example.com"


# --- reading the QR code back without a decoder -----------------------------------------------------

def dark_modules_of_svg(svg: str) -> set:
    """The dark modules segno's SVG path draws ("M4 4.5h7m3 0h4m-33 1h1…": each `h` a run of dark
    modules on the row at y − .5), shifted so that the symbol's top-left module is (0, 0)."""
    d = re.search(r'<path[^>]*\sd="([^"]+)"', svg).group(1)
    x = y = 0.0
    dark = set()
    for op, a, b in re.findall(r"([MmHh])\s*(-?[\d.]+)(?:[ ,](-?[\d.]+))?", d):
        a = float(a)
        if op == "M":
            x, y = a, float(b)
        elif op == "m":
            x, y = x + a, y + float(b)
        else:
            length = a if op == "h" else a - x
            dark |= {(int(x + i), int(y)) for i in range(int(length))}
            x += length
    return normalised(dark)


def normalised(cells: set) -> set:
    left, top = min(c[0] for c in cells), min(c[1] for c in cells)
    return {(cx - left, cy - top) for cx, cy in cells}


def dark_modules_of(url: str, error: str) -> set:
    qr = segno.make(url, error=error)
    return normalised({(cx, cy) for cy, row in enumerate(qr.matrix) for cx, v in enumerate(row) if v & 1})


def is_qr_of(svg: str, url: str) -> bool:
    drawn = dark_modules_of_svg(svg)
    return any(drawn == dark_modules_of(url, level) for level in "lmqh")


def test_the_qr_reader_tells_one_link_from_another():
    svg = segno.make(f"{BASE}/track/KS-202611-0001/abcdefghijklmnop", error="m").svg_inline(scale=3)
    assert is_qr_of(svg, f"{BASE}/track/KS-202611-0001/abcdefghijklmnop")
    assert not is_qr_of(svg, f"{BASE}/track/KS-202611-0001/abcdefghijklmnoq")


# --- the slip --------------------------------------------------------------------------------------

def slip_page(app, c, size=None, who="receiver"):
    query = f"?size={size}" if size else ""
    resp = as_user(app, who).get(f"/complaints/{c.id}/slip{query}")
    assert resp.status_code == 200, resp.status_code
    return resp, resp.get_data(as_text=True)


def text_of(page, ident):
    found = re.search(rf'id="{ident}"[^>]*>(.*?)</', page, re.S)
    assert found, ident
    return found.group(1).strip()


def test_the_slip_has_the_number_store_expected_date_and_a_qr_of_the_progress_link(app, demo):
    app.config["BASE_URL"] = BASE + "/"             # a trailing slash is not doubled
    c = make_complaint(db.session, "new", customer_phone=PHONE, customer_email=EMAIL,
                       extra={"customer_address": "上海市徐汇区漕溪北路 88 号"})
    db.session.commit()
    label, due = expectation(db.session, c)
    assert label == "预计答复日期" and due is not None          # the answer clock runs
    follow = BASE + links.follow_path(app.config["SECRET_KEY"], c)
    for size, sheet in (("80", "sheet-80"), ("a4", "sheet-a4"), (None, "sheet-80")):
        resp, page = slip_page(app, c, size)
        assert resp.headers["Cache-Control"] == "no-store"
        assert f'class="sheet {sheet}"' in page, size
        assert text_of(page, "slip-number") == c.number
        assert text_of(page, "slip-unit") == "上海徐汇店"
        assert text_of(page, "slip-received") == NOW.astimezone(TZ).date().isoformat()
        assert text_of(page, "slip-expected") == due.astimezone(TZ).date().isoformat()
        assert "预计答复日期" in page
        assert text_of(page, "slip-company") == "客户服务中心"     # no company name set: the messages' words
        assert text_of(page, "slip-url") == follow
        assert f"也可以打开 {BASE}/track，输入编号和手机号后四位查询" in text_of(page, "slip-lookup")
        svg = re.search(r'<svg.*?</svg>', page, re.S).group(0)
        assert is_qr_of(svg, follow), size
        assert "<img" not in page and "style=" not in svg and "<script>" not in page   # CSP: no inline script or style
        # nothing personal: not the name, the phone (nor its last four digits), the e-mail or the address
        for secret in ("王女士", PHONE, PHONE[-4:], EMAIL, "漕溪北路"):
            assert secret not in page, (size, secret)


def test_the_slip_shows_the_company_name_and_the_e_mail_lookup_without_a_phone(app, demo):
    portal.set_portal_config(db.session, user(db.session, "admin"), enabled=True, company_name="鑫源食品",
                             intro=portal.DEFAULT_INTRO, privacy=portal.DEFAULT_PRIVACY, link_days=7, receiver_id=None,
                             now=NOW)
    c = make_complaint(db.session, "new", customer_phone=None, customer_email=EMAIL)
    db.session.commit()
    _resp, page = slip_page(app, c, "a4", who="quality")
    assert text_of(page, "slip-company") == "鑫源食品"
    assert "输入编号和登记的邮箱查询" in page and "手机号后四位" not in page
    assert EMAIL not in page


def test_a_paused_complaint_promises_no_date(app, demo):
    c = make_complaint(db.session, "investigating", investigator="handler2")
    act(db.session, "handler2", c, "pause", reason="等顾客提供购物小票")
    db.session.commit()
    _resp, page = slip_page(app, c, "80", who="handler2")
    assert 'id="slip-expected"' not in page and "我们会尽快处理并与您联系" in page


def test_the_slip_is_for_those_who_may_see_the_complaint(app, demo, web):
    c = make_complaint(db.session, "new")
    db.session.commit()
    anonymous = web.get(f"/complaints/{c.id}/slip?size=80")
    assert anonymous.status_code == 302 and anonymous.headers["Location"].startswith("/login?next=")
    for outsider in ("receiver2", "handler"):          # another store's clerk; a department it is not with
        resp = as_user(app, outsider).get(f"/complaints/{c.id}/slip?size=a4")
        assert resp.status_code == 404 and c.number not in resp.get_data(as_text=True), outsider
    assert as_user(app, "admin").get(f"/complaints/{c.id}/slip").status_code == 403
    for insider in ("receiver", "quality", "manager"):
        assert as_user(app, insider).get(f"/complaints/{c.id}/slip?size=80").status_code == 200, insider
    assert as_user(app, "receiver").get(f"/complaints/{c.id}/slip?size=<b>").status_code == 200   # unknown size: 80 mm


# --- the counter: consent and the done page -----------------------------------------------------

def test_the_consent_box_is_unticked_and_stores_what_the_clerk_ticked(app, demo):
    web = as_user(app, "receiver")
    form = web.get("/receiver/").get_data(as_text=True)
    box = re.search(r'<input[^>]*name="contact_consent"[^>]*>', form).group(0)
    assert 'type="checkbox"' in box and "checked" not in box
    assert "顾客同意接收短信/邮件通知（受理编号、答复、评价链接）" in form
    ticked = register_on_screen(web, contact_consent="y")
    assert ticked.contact_consent is True
    unticked = register_on_screen(web)
    assert unticked.contact_consent is False and unticked.id != ticked.id


def test_the_done_page_offers_the_slip_in_both_sizes(app, demo):
    web = as_user(app, "receiver")
    c = register_on_screen(web)
    page = web.get(f"/receiver/done/{c.id}").get_data(as_text=True)
    buttons = re.search(r'id="slip-actions">(.*?)</div>', page, re.S).group(1)
    assert f'href="/complaints/{c.id}/slip?size=80"' in buttons and "打印顾客回执（80mm）" in buttons
    assert f'href="/complaints/{c.id}/slip?size=a4"' in buttons and "打印顾客回执（A4）</a>" in buttons
    assert "btn-big" in buttons
    record = web.get(f"/complaints/{c.id}").get_data(as_text=True)
    assert f'id="slip-link" href="/complaints/{c.id}/slip"' in record


# --- the record: the customer on the timeline and as an uploader ------------------------------------

def jpeg():
    buf = io.BytesIO()
    Image.new("RGB", (48, 32), (30, 120, 200)).save(buf, "JPEG")
    return buf.getvalue()


def timeline_rows(page):
    section = re.search(r'<ol class="timeline">(.*?)</ol>', page, re.S).group(1)
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", li)).strip() for li in re.findall(r"<li>(.*?)</li>", section, re.S)]


def test_the_record_names_the_customer_for_what_they_did(app, demo):
    s = db.session
    c = make_complaint(s, "investigating", investigator="handler2")
    attachments.store(s, Path(UPLOAD_DIR), Customer(c.id), io.BytesIO(jpeg()), "小票.jpg", "c" * 32, now=NOW)
    steps.add_information(s, c, text="小票照片补上了", upload_token="c" * 32, now=NOW)
    s.commit()
    assert c.attachments[-1].uploaded_by_id is None
    page = as_user(app, "handler2").get(f"/complaints/{c.id}").get_data(as_text=True)
    added = [row for row in timeline_rows(page) if "顾客补充材料" in row]
    assert len(added) == 1 and "顾客" in added[0].replace("顾客补充材料", "") and "系统" not in added[0]
    assert "小票照片补上了" in added[0]
    batches = [re.sub(r"\s+", " ", b) for b in re.findall(r'<p class="muted file-batch">(.*?)</p>', page, re.S)]
    assert any(" · 顾客 · " in b for b in batches), batches
    registered = timeline_rows(page)[0]
    assert "登记" in registered and "顾客" not in registered          # the clerk registered this one


def test_an_online_complaint_says_the_customer_registered_it(app, demo):
    s = db.session
    form = online.OnlineComplaint(customer_name="李先生", customer_phone="13900001234", content="买的牛奶过期了",
                                  privacy_consent=True, contact_consent=True)
    c = online.register_online(s, form, now=NOW, tz=TZ, token="o" * 32).complaint
    s.commit()
    page = as_user(app, "quality").get(f"/complaints/{c.id}").get_data(as_text=True)
    first = timeline_rows(page)[0]
    assert "顾客（网上提交）" in first and "系统" not in first


def test_with_the_pages_off_the_slip_has_no_qr_but_the_hotline(app, demo):
    c = make_complaint(db.session, "new")
    settings = portal.portal_config(db.session)
    portal.set_portal_config(db.session, user(db.session, "admin"), enabled=False, company_name="鲜味食品", intro="",
                             privacy=settings.privacy, link_days=7, receiver_id=None, hotline="400-820-1234",
                             now=NOW)
    db.session.commit()
    _resp, text = slip_page(app, c)
    assert c.number in text and "<svg" not in text and "/track/" not in text
    assert "客服电话：400-820-1234" in text


def test_the_record_says_whether_the_customer_may_be_messaged_and_what_was_sent(app, demo, smtp_sink):
    from tests.domain.test_channels import smtp_on
    smtp_on(db.session, smtp_sink.port)
    told = make_complaint(db.session, "new", customer_email="li@example.com", contact_consent=True)
    silent = make_complaint(db.session, "new")
    db.session.commit()
    page = as_user(app, "quality").get(f"/complaints/{told.id}").get_data(as_text=True)
    assert "顾客已同意" in text_of(page, "customer-consent")
    assert "给顾客：受理通知（邮件，待发送）" in page
    page = as_user(app, "quality").get(f"/complaints/{silent.id}").get_data(as_text=True)
    assert "顾客未同意" in text_of(page, "customer-consent") and 'id="customer-messages"' not in page
