"""The closed loop over HTTP: each role's forms, version checks, scope and the approval cards."""
from datetime import date, timedelta

from models import db
from tests.builders import as_user, make_complaint, register_on_screen, step, unit


def test_full_loop_through_the_screens(login_as, app):
    clerk = login_as("receiver")
    c = register_on_screen(clerk)
    quality, handler, head = as_user(app, "quality"), as_user(app, "handler2"), as_user(app, "prod_head")
    assert c.number in quality.get("/quality/").get_data(as_text=True)       # to dispatch
    form = quality.get(f"/complaints/{c.id}/act/dispatch", htmx=True).get_data(as_text=True)
    assert 'name="unit_id"' in form and f'name="version" value="{c.version}"' in form
    resp = step(quality, c, "dispatch", unit_id=unit(db.session, "生产部").id)
    assert resp.status_code == 204 and resp.headers["HX-Redirect"] == f"/complaints/{c.id}"
    assert c.number in handler.get("/handler/").get_data(as_text=True)        # the department's queue
    # Only the actions this user may take now are offered.
    record = handler.get(f"/complaints/{c.id}").get_data(as_text=True)
    assert "/act/propose" in record and "/act/dispatch" not in record and "/act/approve" not in record
    assert step(handler, c, "add_action", kind="corrective", text="培训",
                due=(date.today() + timedelta(days=10)).isoformat()).status_code == 204
    resp = step(handler, c, "propose", findings="查明", root_cause="发网破损", cause_category="man", kind="refund",
                amount="", text="退款并致歉")
    assert resp.status_code == 422 and "退款或赔偿请填写金额" in resp.get_data(as_text=True)
    assert step(handler, c, "propose", findings="查明", root_cause="发网破损", cause_category="man", kind="refund",
                amount="68", text="退款并致歉").status_code == 204
    home = head.get("/handler/").get_data(as_text=True)
    assert f'id="approval-{c.id}"' in home                                     # the head's approval card
    db.session.refresh(c)
    card = head.post(f"/complaints/{c.id}/card/approve", {"version": c.version}, htmx=True)
    body = card.get_data(as_text=True)
    assert card.status_code == 200 and "已批准" in body and 'id="approve-count"' in body and 'hx-swap-oob' in body
    assert len(card.data) < 10_000
    assert step(clerk, c, "answer", method="phone", accepted="yes").status_code == 204   # first responder answers
    db.session.refresh(c)
    action_id = c.actions[0].id
    assert step(quality, c, "verify", **{f"verdict_{action_id}": "effective"}).status_code == 204
    assert step(clerk, c, "survey", score="5", comment="满意").status_code == 204
    db.session.refresh(c)
    assert c.stage == "closed"
    timeline = clerk.get(f"/complaints/{c.id}").get_data(as_text=True)
    for label in ("核实并分派", "提交处理方案", "批准", "执行并答复顾客", "验证措施效果", "回访满意度"):
        assert label in timeline


def test_a_stale_form_answers_409_with_what_changed(login_as, app):
    c = register_on_screen(login_as("receiver"))
    quality, manager = as_user(app, "quality"), as_user(app, "manager")
    db.session.refresh(c)
    old = c.version
    assert step(quality, c, "dispatch", unit_id=unit(db.session, "生产部").id).status_code == 204
    sales = unit(db.session, "销售部").id
    resp = manager.post(f"/complaints/{c.id}/act/reassign", {"version": old, "unit_id": sales}, htmx=True)
    body = resp.get_data(as_text=True)
    assert resp.status_code == 409            # a stale form, whatever it asked for
    resp = manager.post(f"/complaints/{c.id}/act/withdraw", {"version": old, "reason": "撤诉"}, htmx=True)
    body = resp.get_data(as_text=True)
    assert resp.status_code == 409 and "有人修改了这条投诉" in body and "核实并分派" in body
    db.session.refresh(c)
    assert c.stage == "investigating"


def test_scope_and_roles_on_action_urls(login_as, app):
    c = register_on_screen(login_as("receiver"))
    other_store, sales, handler = as_user(app, "pd_clerk"), as_user(app, "handler"), as_user(app, "handler2")
    quality = as_user(app, "quality")
    # Another store's clerk: the complaint does not exist for them.
    assert other_store.get(f"/complaints/{c.id}/act/withdraw").status_code == 404
    assert other_store.post(f"/complaints/{c.id}/act/withdraw", {"version": 1, "reason": "x"}).status_code == 404
    assert other_store.post(f"/complaints/{c.id}/card/approve", {"version": 1}).status_code == 404
    # A receiver cannot dispatch; a handler of another department sees nothing of it.
    clerk = as_user(app, "receiver")
    assert clerk.get(f"/complaints/{c.id}/act/dispatch").status_code == 403
    assert step(quality, c, "dispatch", unit_id=unit(db.session, "生产部").id).status_code == 204
    assert sales.get(f"/complaints/{c.id}").status_code == 404
    assert sales.post(f"/complaints/{c.id}/act/propose", {"version": 2}).status_code == 404
    step(as_user(app, "prod_head"), c, "propose", findings="查明", root_cause="原因", cause_category="man",
         kind="apology", text="致歉")
    db.session.refresh(c)
    # A handler who is not a head cannot approve, not even through the card.
    resp = handler.post(f"/complaints/{c.id}/card/approve", {"version": c.version}, htmx=True)
    assert resp.status_code == 422 and "只有总经理或责任部门负责人可以审批" in resp.get_data(as_text=True)
    db.session.refresh(c)
    assert c.stage == "pending_approval"
    assert clerk.get("/complaints/999999/act/dispatch").status_code == 404
    assert quality.get(f"/complaints/{c.id}/act/nonsense").status_code == 404


def test_manager_rejects_from_the_card_with_a_comment(login_as, app):
    c = register_on_screen(login_as("receiver"), severity="serious")
    quality, handler, manager = as_user(app, "quality"), as_user(app, "handler2"), as_user(app, "manager")
    step(quality, c, "dispatch", unit_id=unit(db.session, "生产部").id)
    step(handler, c, "propose", findings="查明", root_cause="原因", cause_category="man", kind="compensation",
         amount="300", text="赔偿 300 元")
    home = manager.get("/manager/").get_data(as_text=True)
    assert f'id="approval-{c.id}"' in home and "¥300.00" in home
    form = manager.get(f"/complaints/{c.id}/card?reject=1", htmx=True).get_data(as_text=True)
    assert 'name="comment"' in form
    db.session.refresh(c)
    resp = manager.post(f"/complaints/{c.id}/card/reject", {"version": c.version, "comment": ""}, htmx=True)
    assert resp.status_code == 422 and "驳回时请写明原因" in resp.get_data(as_text=True)
    resp = manager.post(f"/complaints/{c.id}/card/reject", {"version": c.version, "comment": "金额偏高"}, htmx=True)
    assert resp.status_code == 200 and "已驳回" in resp.get_data(as_text=True)
    db.session.refresh(c)
    assert c.stage == "investigating"
    # A second tap on a card already decided: a clear answer, nothing changes.
    resp = manager.post(f"/complaints/{c.id}/card/approve", {"version": c.version - 1}, htmx=True)
    assert resp.status_code == 409 and "已由别人处理" in resp.get_data(as_text=True)


def test_action_forms_work_without_htmx(login_as, app):
    c = register_on_screen(login_as("receiver"))
    quality = as_user(app, "quality")
    page = quality.get(f"/complaints/{c.id}/act/dispatch").get_data(as_text=True)
    assert "<html" in page and 'name="unit_id"' in page and c.number in page   # the record page, form in place
    db.session.refresh(c)
    resp = quality.post(f"/complaints/{c.id}/act/dispatch", {"version": c.version, "unit_id": ""})
    body = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "<html" in body and "请选择责任部门" in body
    production = unit(db.session, "生产部").id
    resp = quality.post(f"/complaints/{c.id}/act/dispatch", {"version": c.version, "unit_id": production})
    assert resp.status_code == 303 and resp.headers["Location"] == f"/complaints/{c.id}"


def test_sweep_findings_get_clear_answers(login_as, app):
    c = register_on_screen(login_as("receiver"))
    quality, manager = as_user(app, "quality"), as_user(app, "manager")
    # A card for a complaint that is not waiting for approval: a message, not an error.
    resp = manager.get(f"/complaints/{c.id}/card", htmx=True)
    assert resp.status_code == 409 and "不需要审批" in resp.get_data(as_text=True)
    resp = manager.post(f"/complaints/{c.id}/card/approve", {"version": 1}, htmx=True)
    assert resp.status_code == 409
    resp = manager.post(f"/complaints/{c.id}/card/approve", {"version": "abc"}, htmx=True)
    assert resp.status_code == 422 and "请刷新" in resp.get_data(as_text=True)
    # Malformed optional ids are refused, not dropped.
    resp = step(quality, c, "dispatch", unit_id=unit(db.session, "生产部").id, investigator_id="abc")
    assert resp.status_code == 422 and "调查人须是该部门的处理人" in resp.get_data(as_text=True)
    resp = step(quality, c, "dispatch", unit_id=unit(db.session, "生产部").id, category_id="²")
    assert resp.status_code == 422 and "请选择投诉类别" in resp.get_data(as_text=True)
    # A form from the future (version ahead) says so.
    db.session.refresh(c)
    resp = quality.post(f"/complaints/{c.id}/act/withdraw", {"version": c.version + 5, "reason": "x"}, htmx=True)
    assert resp.status_code == 409 and "有人修改了这条投诉" in resp.get_data(as_text=True)
    resp = step(quality, c, "mark_duplicate", duplicate_of=c.number)
    assert resp.status_code == 422 and "不能标成与自己重复" in resp.get_data(as_text=True)
    step(quality, c, "dispatch", unit_id=unit(db.session, "生产部").id)
    handler = as_user(app, "handler2")
    resp = step(handler, c, "add_action", kind="corrective", text="培训", owner_name="名" * 61,
                due=(date.today() + timedelta(days=5)).isoformat())
    assert resp.status_code == 422 and "最多 60 个字" in resp.get_data(as_text=True)
    resp = step(handler, c, "add_action", kind="corrective", text="培训", due="9999-12-31")
    assert resp.status_code == 422 and "三年以内" in resp.get_data(as_text=True)
    step(handler, c, "add_action", kind="corrective", text="培训", due=(date.today() + timedelta(days=5)).isoformat())
    step(handler, c, "propose", findings="查明", root_cause="原因", cause_category="man", kind="apology",
         amount="  ", text="致歉")
    step(as_user(app, "prod_head"), c, "approve")
    step(handler, c, "answer", method="phone", accepted="yes")
    db.session.refresh(c)
    resp = step(quality, c, "verify", **{f"verdict_{c.actions[0].id}": "waived", f"reason_{c.actions[0].id}": "长" * 501})
    assert resp.status_code == 422 and "最多 500 个字" in resp.get_data(as_text=True)


def test_quality_confirms_responsibility_from_its_queue(login_as, app):
    clerk = login_as("receiver")
    c = register_on_screen(clerk)
    quality = as_user(app, "quality")
    assert step(quality, c, "dispatch", unit_id=unit(db.session, "销售部").id).status_code == 204
    head = as_user(app, "handler")
    assert step(head, c, "propose", findings="店员未按规定解释", root_cause="培训不足", cause_category="man",
                kind="apology", amount="", text="致歉").status_code == 204
    manager = as_user(app, "manager")
    assert step(manager, c, "approve").status_code == 204
    home = quality.get("/quality/").get_data(as_text=True)
    assert 'id="to-attribute"' in home and c.number in home
    form = quality.get(f"/complaints/{c.id}/act/attribute", htmx=True).get_data(as_text=True)
    assert "未能明确个人，归属专卖店" in form
    store = unit(db.session, "上海徐汇店").id
    assert f'<option value="{store}" selected>上海分公司 / 上海徐汇店</option>' in form
    bad = step(quality, c, "attribute", kind="branch", unit_id=str(unit(db.session, "上海分公司").id))
    assert bad.status_code == 422 and "与系统建议的归属不同，请写明理由" in bad.get_data(as_text=True)
    assert step(quality, c, "attribute", kind="store", unit_id=str(store)).status_code == 204
    db.session.refresh(c)
    assert c.attributed and c.number not in quality.get("/quality/").get_data(as_text=True).split('id="to-attribute"')[1]
    assert step(clerk, c, "attribute", kind="store", unit_id=str(store)).status_code == 409
    record = quality.get(f"/complaints/{c.id}").get_data(as_text=True)
    assert 'id="attribution"' in record and "门店 · 上海徐汇店" in record and "确认责任归属" in record


def test_notices_page_lists_and_marks_read(login_as):
    c = make_complaint(db.session, "investigating")       # quality dispatched it: the receiver is told
    web = login_as("receiver")
    home = web.get("/receiver/").get_data(as_text=True)
    assert 'class="bell-n">1<' in home
    page = web.get("/complaints/notices").get_data(as_text=True)
    assert c.number in page and "调查处理中" in page
    assert 'class="bell-n"' not in web.get("/receiver/").get_data(as_text=True)
