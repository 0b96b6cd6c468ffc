"""The survey and the customer's closure through a one-time link, over HTTP (SPEC §7, 谁投诉谁关闭):
forged links are 404, used and expired ones 410 with a clear page, and while the complaint still
waits for a rating the customer can ask for a new link, sent to the contact on record."""
from datetime import timedelta

from sqlalchemy import select

from domain.portal import links
from models import db, utcnow
from models.complaint import ComplaintEvent
from models.sla import Outbox
from tests.builders import make_complaint
from tests.domain.test_channels import smtp_on
from tests.web.test_public_complain import SECRET, csrf_of, customer


def rated(**fields):
    """A complaint waiting for the customer's rating and a fresh survey link (as the message carries)."""
    c = make_complaint(db.session, "follow_up", contact_consent=True, customer_email="wang.li@example.com", **fields)
    token = links.issue(db.session, c, utcnow(), 7)
    db.session.commit()
    return c, token


def answer(web, token, **data):
    page = web.get(f"/survey/{token}").get_data(as_text=True)
    return web.post(f"/survey/{token}", {"csrf_token": csrf_of(page), **data}, csrf=False)


def test_the_customer_closes_the_complaint_through_the_link(app, demo):
    c, token = rated()
    web = customer(app)
    page = web.get(f"/survey/{token}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and c.number in text and "退款 68 元并致歉" in text
    assert 'name="confirm"' in text and 'type="radio" value="5"' in text
    assert page.headers["Referrer-Policy"] == "no-referrer" and '<meta name="robots" content="noindex' in text
    resp = answer(web, token, score="5", comment="处理得很快<script>x</script>", confirm="y")
    assert resp.status_code == 303 and resp.headers["Location"] == f"/survey/{token}/thanks"
    done = web.get(resp.headers["Location"]).get_data(as_text=True)
    assert "已结案，感谢您的评价" in done and links.follow_path(SECRET, c) in done
    db.session.refresh(c)
    assert c.stage == "closed" and c.close_reason == "customer" and c.satisfaction == 5
    last = db.session.scalars(select(ComplaintEvent).where(ComplaintEvent.complaint_id == c.id)
                              .order_by(ComplaintEvent.id.desc())).first()
    assert last.kind == "customer_closed" and last.actor_id is None and last.to_stage == "closed"
    progress = web.get(links.follow_path(SECRET, c)).get_data(as_text=True)
    assert "已结案" in progress and "<script>x" not in progress


def test_a_low_score_leaves_it_open_and_says_we_will_call(app, demo):
    c, token = rated()
    web = customer(app)
    resp = answer(web, token, score="2", comment="还是不满意")
    assert resp.status_code == 303
    assert "我们会尽快联系您" in web.get(resp.headers["Location"]).get_data(as_text=True)
    db.session.refresh(c)
    assert c.stage == "follow_up" and c.needs_decision and c.satisfaction == 2


def test_a_missing_or_junk_score_is_a_message(app, demo):
    c, token = rated()
    web = customer(app)
    for data in ({}, {"score": "9"}, {"score": "<b>"}, {"score": "5", "comment": "长" * 2001}):
        resp = answer(web, token, **data)
        text = resp.get_data(as_text=True)
        assert resp.status_code == 422 and ("请选择 1 到 5 分。" in text or "最多 2000 个字。" in text), data
        assert "<b>" not in text
    db.session.refresh(c)
    assert c.satisfaction is None and c.stage == "follow_up"


def test_a_forged_link_is_404_and_a_used_one_410(app, demo):
    c, token = rated()
    web = customer(app)
    for forged in ("x" * 16, token[:-1] + ("A" if token[-1] != "A" else "B"), "short", "a" * 50):
        resp = web.get(f"/survey/{forged}")
        assert resp.status_code == 404 and "这个链接无效" in resp.get_data(as_text=True), forged
    assert web.get("/survey/" + "x" * 16 + "/thanks").status_code == 404
    assert answer(web, token, score="4", confirm="y").status_code == 303
    used = web.get(f"/survey/{token}")
    text = used.get_data(as_text=True)
    assert used.status_code == 410 and "这个评价链接已经用过了。" in text and "发送新的评价链接" not in text
    # The same form sent again (a double tap on a slow network): the thank-you page, nothing changed.
    again = web.post(f"/survey/{token}", {"csrf_token": csrf_of(web.get("/track").get_data(as_text=True)), "score": "1"},
                     csrf=False)
    assert again.status_code == 303 and again.headers["Location"] == f"/survey/{token}/thanks"
    db.session.refresh(c)
    assert c.satisfaction == 4


def test_an_expired_link_offers_a_new_one_sent_to_the_contact_on_record(app, demo, smtp_sink):
    c = make_complaint(db.session, "follow_up", contact_consent=True, customer_email="wang.li@example.com")
    token = links.issue(db.session, c, utcnow() - timedelta(days=8), 7)
    db.session.commit()
    web = customer(app)
    page = web.get(f"/survey/{token}")
    text = page.get_data(as_text=True)
    # No mail server yet: no button that could not work — the progress page (linked) offers the rating.
    assert page.status_code == 410 and "这个评价链接已过期。" in text and "发送新的评价链接" not in text
    assert links.follow_path(SECRET, c) in text
    nowhere = web.post(f"/survey/{token}/new", {"csrf_token": csrf_of(web.get("/track").get_data(as_text=True))},
                       csrf=False)
    assert nowhere.status_code == 200 and "无法发送新链接" in nowhere.get_data(as_text=True)
    smtp_on(db.session, smtp_sink.port)
    db.session.commit()
    text = web.get(f"/survey/{token}").get_data(as_text=True)
    assert "发送新的评价链接" in text and f'action="/survey/{token}/new"' in text
    sent = web.post(f"/survey/{token}/new", {"csrf_token": csrf_of(text)}, csrf=False)
    body = sent.get_data(as_text=True)
    assert sent.status_code == 200 and "新的评价链接已发出" in body and "w***@example.com" in body
    assert "wang.li" not in body
    assert db.session.scalars(select(Outbox.channel).where(Outbox.complaint_id == c.id,
                                                           Outbox.kind == "customer:survey")).all()[-1] == "email"
    recent = web.post(f"/survey/{token}/new", {"csrf_token": csrf_of(text)}, csrf=False)
    assert "刚刚已经发过新链接" in recent.get_data(as_text=True)
    limited = web.post(f"/survey/{token}/new", {"csrf_token": csrf_of(text)}, csrf=False)
    assert limited.status_code == 429 and "请稍等" in limited.get_data(as_text=True)
    assert web.post("/survey/" + "y" * 16 + "/new", {"csrf_token": csrf_of(text)}, csrf=False,
                    environ_base={"REMOTE_ADDR": "10.7.7.7"}).status_code == 404


def test_an_expired_link_of_a_rated_complaint_offers_nothing_new(app, demo):
    c, token = rated()
    old = links.issue(db.session, c, utcnow() - timedelta(days=8), 7)
    db.session.commit()
    web = customer(app)
    assert answer(web, token, score="5", confirm="y").status_code == 303
    page = web.get(f"/survey/{old}")
    assert page.status_code == 410 and "发送新的评价链接" not in page.get_data(as_text=True)


def test_the_answer_needs_the_csrf_token(app, demo):
    c, token = rated()
    resp = customer(app).post(f"/survey/{token}", {"score": "5", "confirm": "y"}, csrf=False)
    assert resp.status_code == 400
    db.session.refresh(c)
    assert c.satisfaction is None
