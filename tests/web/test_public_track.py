"""Following a complaint over HTTP (SPEC §7): the lookup (the same answer for a wrong number and
for wrong digits, limited per address and per number), the progress page its link opens (only
what the customer may see), and adding information through it."""
import io
import re
from datetime import timedelta

from sqlalchemy import func, select

from domain.portal import links
from models import db, utcnow
from models.attachment import Attachment
from models.complaint import ComplaintEvent
from models.user import User
from tests.builders import PROPOSAL, act, make_complaint
from tests.web.test_public_complain import CSRF_RE, SECRET, csrf_of, customer, jpeg

PHONE = "13812345678"        # make_complaint's customer: 王女士, digits 5678


def lookup(web, number, proof, addr="127.0.0.1", **extra):
    page = web.get("/track", environ_base={"REMOTE_ADDR": addr}).get_data(as_text=True)
    return web.post("/track", {"csrf_token": csrf_of(page), "number": number, "proof": proof, **extra}, csrf=False,
                    environ_base={"REMOTE_ADDR": addr})


def without_csrf(resp) -> bytes:
    return CSRF_RE.sub("", resp.get_data(as_text=True)).encode()


NUMBER_VALUE_RE = re.compile(r'(id="number"[^>]*?) value="[^"]*"')


def without_typed_number(resp) -> bytes:
    """The page without its CSRF token and the number the customer typed (shown again to correct it)."""
    return NUMBER_VALUE_RE.sub(r"\1", without_csrf(resp).decode()).encode()


def test_the_number_and_the_last_four_digits_open_the_progress_page(app, demo):
    c = make_complaint(db.session, "new", customer_email="wang@example.com")
    web = customer(app)
    for number, proof in ((c.number, "5678"), (c.number.lower(), "５６７８"), (c.number, "WANG@example.com")):
        resp = lookup(web, number, proof)
        assert resp.status_code == 303 and resp.headers["Location"] == links.follow_path(SECRET, c), (number, proof)


def test_a_wrong_number_and_wrong_digits_get_the_same_page_byte_for_byte(app, demo):
    c = make_complaint(db.session, "new")
    web = customer(app)
    wrong_number = lookup(web, "TS-209901-0042", "5678")
    wrong_digits = lookup(web, c.number, "1234")
    not_a_number = lookup(web, "<b>x</b>", "<i>")
    assert wrong_number.status_code == wrong_digits.status_code == not_a_number.status_code == 422
    assert without_typed_number(wrong_number) == without_typed_number(wrong_digits) == \
        without_typed_number(not_a_number)
    text = without_csrf(wrong_digits).decode()
    assert "编号或验证信息不对，请核对后再试。" in text
    assert f'value="{c.number}"' in text                   # the number as typed, to correct it …
    assert "1234" not in text                               # … never the digits
    assert "<b>x" not in without_csrf(not_a_number).decode()   # escaped


def test_empty_fields_are_named(app, demo):
    resp = lookup(customer(app), "", "")
    text = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "请填写投诉编号。" in text and "请填写手机号后四位，或留下的电子邮箱。" in text


def test_a_thousand_wrong_lookups_from_one_address_are_stopped_and_learn_nothing(app, demo):
    c = make_complaint(db.session, "new")
    web = customer(app)
    answers = []
    for i in range(1000):
        number = f"TS-202611-{i:04d}" if i % 2 else c.number       # real and made-up numbers alike
        resp = web.post("/track", {"number": number, "proof": f"{i:04d}"[-4:]})
        answers.append((resp.status_code, without_typed_number(resp)))
    codes = [code for code, _body in answers]
    assert set(codes) == {422, 429} and codes.index(429) <= 40 and codes[codes.index(429):] == \
        [429] * (1000 - codes.index(429))
    assert len({body for code, body in answers if code == 422}) == 1          # one page for every failure
    assert len({body for code, body in answers if code == 429}) == 1
    assert all(c.number.encode() not in body and "王女士".encode() not in body for _code, body in answers)
    limited = web.post("/track", {"number": c.number, "proof": "5678"})       # even the right digits now
    assert limited.status_code == 429 and "请稍等" in limited.get_data(as_text=True)


def test_wrong_lookups_of_one_number_from_many_addresses_are_stopped(app, demo):
    c = make_complaint(db.session, "new")
    other = make_complaint(db.session, "new")
    web = customer(app)
    codes = [lookup(web, c.number, f"{i:04d}", addr=f"10.0.{i}.1").status_code for i in range(11)]
    assert codes == [422] * 10 + [429]                   # default: 10 failures per number an hour
    assert lookup(web, c.number, "5678", addr="10.0.99.1").status_code == 429
    assert lookup(web, other.number, "0000", addr="10.0.98.1").status_code == 422     # other numbers go on


def test_successful_lookups_do_not_count(app, demo):
    c = make_complaint(db.session, "new")
    web = customer(app)
    assert {lookup(web, c.number, "5678").status_code for _ in range(15)} == {303}


def test_the_slips_link_fills_in_the_number(app, demo):
    c = make_complaint(db.session, "new")
    web = customer(app)
    text = web.get(f"/track/{c.number}").get_data(as_text=True)
    assert f'value="{c.number}"' in text
    junk = web.get("/track/%3Cscript%3Ealert(1)%3C")
    assert junk.status_code == 200 and "<script>" not in junk.get_data(as_text=True)


def test_a_wrong_code_or_number_is_404_like_an_unknown_one(app, demo):
    c = make_complaint(db.session, "new")
    other = make_complaint(db.session, "new")
    web = customer(app)
    good = links.follow_path(SECRET, c)
    code = good.rsplit("/", 1)[1]
    answers = [web.get(path) for path in (f"/track/{c.number}/{'a' * 16}", f"/track/{other.number}/{code}",
                                          f"/track/TS-209901-0001/{code}", f"/track/{c.number}/{code[:-1]}",
                                          f"/track/{c.number}/{code[:-1]}z")]
    assert [r.status_code for r in answers] == [404] * 5
    assert len({r.get_data() for r in answers}) == 1
    assert web.get(good).status_code == 200
    # Typed from the slip: the number's case and dashes, the code's case and a trailing slash are forgiven.
    loose = c.number.lower().replace("-", "")
    for path in (f"/track/{loose}/{code.upper()}", good + "/"):
        assert web.get(path).status_code == 200, path


def staff_words(complaint) -> list[str]:
    """What a customer must never read: staff names, internal notes, causes, departments."""
    names = list(db.session.scalars(select(User.display_name)))
    return names + [PROPOSAL["findings"], PROPOSAL["root_cause"], "生产部", "发网", "品管"]


def test_the_progress_page_shows_the_stage_in_plain_words_and_nothing_internal(app, demo):
    c = make_complaint(db.session, "pending_approval", investigator="handler2")
    web = customer(app)
    text = web.get(links.follow_path(SECRET, c)).get_data(as_text=True)
    assert "处理方案正在审核" in text and c.number in text
    assert "退款 68 元并致歉" not in text and "68 元" not in text       # not approved yet: no answer, no amount
    for word in staff_words(c):
        assert word not in text, word
    act(db.session, "prod_head", c, "approve")
    act(db.session, "handler2", c, "answer", method="phone", accepted=True)
    text = web.get(links.follow_path(SECRET, c)).get_data(as_text=True)
    assert c.stage == "follow_up" and "已处理，请您评价" in text
    assert "退款 68 元并致歉" in text                                   # approved and answered
    assert "现在评价" in text and "评价链接也已" not in text      # no SMS or mail server: rate here
    for word in staff_words(c):
        assert word not in text, word


def test_the_progress_page_carries_no_referrer_and_no_index(app, demo):
    c = make_complaint(db.session, "new")
    resp = customer(app).get(links.follow_path(SECRET, c))
    text = resp.get_data(as_text=True)
    assert resp.headers["Referrer-Policy"] == "no-referrer" and resp.headers["Cache-Control"] == "no-store"
    assert '<meta name="robots" content="noindex, nofollow">' in text
    assert "<script" not in text and "style=" not in text


def add_form(web, path) -> dict:
    page = web.get(path).get_data(as_text=True)
    return {"csrf_token": csrf_of(page),
            "upload_token": re.search(r'name="upload_token" type="hidden" value="([0-9a-f]{32})"', page).group(1)}


def test_adding_information_reaches_the_timeline_and_resumes_a_paused_clock(app, demo):
    c = make_complaint(db.session, "investigating", investigator="handler2")
    act(db.session, "handler2", c, "pause", reason="等顾客提供购物小票")
    web = customer(app)
    path = links.follow_path(SECRET, c)
    assert "我们在等您的回复或补充材料" in web.get(path).get_data(as_text=True)
    resp = web.post(path + "/add", {**add_form(web, path), "text": "小票在这里，11 月 20 日购买",
                                    "photos": [(io.BytesIO(jpeg()), "小票.jpg")]},
                    csrf=False, content_type="multipart/form-data")
    assert resp.status_code == 303 and resp.headers["Location"] == path
    db.session.refresh(c)
    assert c.paused_at is None
    event = db.session.scalars(select(ComplaintEvent).where(ComplaintEvent.complaint_id == c.id)
                               .order_by(ComplaintEvent.id.desc())).first()
    assert event.kind == "customer_adds" and event.actor_id is None and "11 月 20 日" in event.comment
    assert "小票.jpg" in event.comment
    photo = db.session.scalar(select(Attachment).where(Attachment.complaint_id == c.id))
    assert photo.uploaded_by_id is None and photo.name == "小票.jpg"
    text = web.get(path).get_data(as_text=True)
    assert "谢谢，您补充的内容已收到" in text and "我们在等您" not in text


def test_bad_additions_come_back_with_messages_and_keep_the_photos(app, demo):
    c = make_complaint(db.session, "investigating")
    web = customer(app)
    path = links.follow_path(SECRET, c)
    empty = web.post(path + "/add", {**add_form(web, path), "text": ""}, csrf=False)
    assert empty.status_code == 422 and "请写下要补充的内容，或选择照片。" in empty.get_data(as_text=True)
    form = add_form(web, path)
    long = web.post(path + "/add", {**form, "text": "<b>粗</b>" + "长" * 2001,
                                    "photos": [(io.BytesIO(jpeg()), f"{n}.jpg") for n in "abcd"]},
                    csrf=False, content_type="multipart/form-data")
    text = long.get_data(as_text=True)
    assert long.status_code == 422 and "最多 3 张照片，“d.jpg”没有保存。" in text
    assert "&lt;b&gt;粗" in text and "<b>粗" not in text
    too_long = web.post(path + "/add", {**form, "text": "长" * 2001}, csrf=False)
    assert too_long.status_code == 422 and "最多 2000 个字。" in too_long.get_data(as_text=True)
    assert "<span>a.jpg</span>" in too_long.get_data(as_text=True)                 # still kept
    fake = web.post(path + "/add", {**add_form(web, path), "photos": [(io.BytesIO(b"MZ\x90\x00"), "x.jpg"), (io.BytesIO(b""), "0.jpg")]},
                    csrf=False, content_type="multipart/form-data")
    assert "“x.jpg”不是照片" in fake.get_data(as_text=True) and "文件是空的" in fake.get_data(as_text=True)
    ok = web.post(path + "/add", {**form, "text": "补充"}, csrf=False)
    assert ok.status_code == 303
    assert db.session.scalar(select(func.count()).select_from(Attachment).where(Attachment.complaint_id == c.id)) == 3
    no_csrf = web.post(path + "/add", {"text": "再补充"}, csrf=False)
    assert no_csrf.status_code == 400


def test_a_closed_complaint_takes_no_additions(app, demo):
    c = make_complaint(db.session, "closed")
    web = customer(app)
    path = links.follow_path(SECRET, c)
    page = web.get(path).get_data(as_text=True)
    assert "已结案" in page and "补充材料" not in page
    resp = web.post(path + "/add", {"csrf_token": csrf_of(web.get("/track").get_data(as_text=True)), "text": "还有"},
                    csrf=False)
    assert resp.status_code == 409 and "已经结案，不能再补充材料" in resp.get_data(as_text=True)
    assert not db.session.scalar(select(func.count()).select_from(ComplaintEvent).where(
        ComplaintEvent.complaint_id == c.id, ComplaintEvent.kind == "customer_adds"))


def test_adding_is_limited_per_address(app, demo):
    c = make_complaint(db.session, "investigating")
    web = customer(app)
    path = links.follow_path(SECRET, c)
    token = csrf_of(web.get(path).get_data(as_text=True))
    codes = [web.post(path + "/add", {"csrf_token": token, "text": ""}, csrf=False).status_code for _ in range(6)]
    assert codes == [422] * 5 + [429]


def test_an_expected_date_is_shown_while_open(app, demo):
    c = make_complaint(db.session, "new", at=utcnow() - timedelta(hours=1))
    text = customer(app).get(links.follow_path(SECRET, c)).get_data(as_text=True)
    assert "已收到，正在核实" in text and re.search(r"预计\w+日期</dt><dd>\d{4}-\d\d-\d\d</dd>", text)


def test_the_progress_page_lets_the_customer_rate_now(app, demo):
    c = make_complaint(db.session, "follow_up")                 # nothing was sent: no consent, no channel
    web = customer(app)
    progress = links.follow_path(SECRET, c)
    page = web.get(progress).get_data(as_text=True)
    assert "现在评价" in page
    go = web.post(progress + "/survey", {"csrf_token": csrf_of(page)}, csrf=False)
    assert go.status_code == 303 and go.headers["Location"].startswith("/survey/")
    survey = web.get(go.headers["Location"]).get_data(as_text=True)
    done = web.post(go.headers["Location"], {"csrf_token": csrf_of(survey), "score": "5", "confirm": "y"}, csrf=False)
    assert done.status_code == 303
    db.session.refresh(c)
    assert c.stage == "closed" and c.events[-1].kind == "customer_closed" and c.events[-1].actor_id is None
    back = web.post(progress + "/survey", {"csrf_token": csrf_of(page)}, csrf=False)
    assert back.status_code == 303 and back.headers["Location"] == progress     # nothing left to rate
    assert web.post(progress + "/survey", {}, csrf=False).status_code == 400    # CSRF
    assert web.post(f"/track/{c.number}/{'a' * 16}/survey", {"csrf_token": csrf_of(page)}, csrf=False).status_code == 404
