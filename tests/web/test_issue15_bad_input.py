"""Issue 15's new forms and endpoints against bad input: empty and 10,000-character fields, HTML in
text, a wrong role, a complaint out of the user's scope, a double submit — a clear message, nothing
stored, nothing leaked."""
from models import db
from tests.builders import as_user, make_complaint, register_on_screen, step, unit

LONG = "很" * 10_000
SCRIPT = "<script>alert(1)</script>"


def test_correcting_the_record(login_as, app):
    clerk = login_as("receiver")
    c = register_on_screen(clerk)
    version = c.version
    empty = step(clerk, c, "correct", customer_name="赵女士", reason="")
    assert empty.status_code == 422 and "请写明更正的原因" in empty.get_data(as_text=True)
    long = step(clerk, c, "correct", customer_name="赵女士", reason=LONG)
    assert long.status_code == 422 and "最多" in long.get_data(as_text=True)    # said, and the text kept to shorten
    too_long_name = step(clerk, c, "correct", customer_name=LONG, reason="记错了")
    assert too_long_name.status_code == 422
    db.session.refresh(c)
    assert c.version == version and c.customer_name == "王女士"                # nothing written
    assert step(clerk, c, "correct", customer_name=SCRIPT, reason="记错了").status_code == 204
    page = clerk.get(f"/complaints/{c.id}").get_data(as_text=True)
    assert SCRIPT not in page and "&lt;script&gt;" in page                    # shown, escaped
    again = clerk.post(f"/complaints/{c.id}/act/correct",                    # the same form twice
                       {"version": version + 1, "customer_name": "钱女士", "reason": "再改"}, htmx=True)
    twice = clerk.post(f"/complaints/{c.id}/act/correct",
                       {"version": version + 1, "customer_name": "孙女士", "reason": "再改"}, htmx=True)
    assert again.status_code == 204 and twice.status_code == 409
    db.session.refresh(c)
    assert c.customer_name == "钱女士"
    other_clerk = as_user(app, "receiver2")                                   # another store's: not there at all
    assert other_clerk.get(f"/complaints/{c.id}/act/correct").status_code == 404
    assert step(other_clerk, c, "correct", customer_name="x", reason="y").status_code == 404
    handler = as_user(app, "handler2")                                        # no role for it
    dispatched = make_complaint(db.session, "investigating", investigator="handler2")
    db.session.commit()
    assert handler.get(f"/complaints/{dispatched.id}/act/correct").status_code == 403


def test_not_ours_transfer_and_reply_picker(login_as, app):
    handler = login_as("handler2")
    c = make_complaint(db.session, "investigating", investigator="handler2")
    db.session.commit()
    resp = step(handler, c, "not_ours", valid="0", explanation="")
    assert resp.status_code == 422 and "请写下给顾客的解释" in resp.get_data(as_text=True)
    assert step(handler, c, "not_ours", valid="0", explanation=LONG).status_code == 422
    clerk = as_user(app, "receiver")
    q = register_on_screen(clerk, type="inquiry", content="能开发票吗？")
    bad = step(clerk, q, "transfer_inquiry", unit_id="999999")
    assert bad.status_code == 422 and "请选择" in bad.get_data(as_text=True)
    assert step(clerk, q, "transfer_inquiry", unit_id="abc").status_code == 422
    # The picker: a template id that is junk or not offered changes nothing; another's complaint is not there.
    assert clerk.get(f"/complaints/{q.id}/reply/note?reply_template=abc", htmx=True).status_code == 204
    assert clerk.get(f"/complaints/{q.id}/reply/note?reply_template=99999999999999999999", htmx=True).status_code == 204
    assert as_user(app, "receiver2").get(f"/complaints/{q.id}/reply/note?reply_template=1", htmx=True).status_code == 404


def test_reply_templates_admin(login_as, app):
    admin = login_as("admin")
    long = admin.post("/admin/replies/new", {"title": "致歉", "body": LONG, "category_id": ""}, htmx=True)
    assert long.status_code == 422
    assert admin.post("/admin/replies/new", {"title": SCRIPT, "body": "您好" + SCRIPT, "category_id": "abc"},
                      htmx=True).status_code == 422
    assert admin.post("/admin/replies/new", {"title": SCRIPT, "body": "您好" + SCRIPT, "category_id": ""},
                      htmx=True).status_code in (204, 303)
    page = admin.get("/admin/replies").get_data(as_text=True)
    assert SCRIPT not in page and "&lt;script&gt;" in page
    assert as_user(app, "quality").get("/admin/replies").status_code == 403
    assert admin.post("/admin/replies/new", {"title": "x", "body": "y"}, csrf=False).status_code == 400
