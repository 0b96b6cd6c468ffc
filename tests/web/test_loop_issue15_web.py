"""Issue 15 on the record page: the highlighted button is the step expected next, a rejection
shows beside 下一步 and on the proposal card and leaves the proposal to edit, corrections show
old → new on the timeline (masked for whoever sees the customer masked), the department's
"unreasonable / not ours" finding, and an inquiry transferred to a department."""
import re

from models import db
from tests.builders import PROPOSAL, as_user, make_complaint, register_on_screen, step, unit, user


def highlighted(web, c) -> list[str]:
    """The actions highlighted on `c`'s record page for `web`'s user."""
    page = web.get(f"/complaints/{c.id}").get_data(as_text=True)
    panel = page.split('id="action-panel"', 1)[1].split("</section>", 1)[0]
    links = re.findall(r'<a class="btn btn-primary"\s+href="/complaints/\d+/act/(\w+)"', panel)
    taps = re.findall(r'action="/complaints/\d+/act/(\w+)"[^>]*>\s*<input[^>]*><input[^>]*>\s*'
                      r'<button type="submit" class="btn btn-primary">', panel)
    return links + taps


def offered(web, c) -> set[str]:
    page = web.get(f"/complaints/{c.id}").get_data(as_text=True)
    panel = page.split('id="action-panel"', 1)[1].split("</section>", 1)[0]
    return set(re.findall(r"/complaints/\d+/act/(\w+)", panel))


def test_the_highlighted_button_is_the_expected_step(login_as, app):
    clerk = login_as("receiver")
    c = register_on_screen(clerk)
    quality, handler, head = as_user(app, "quality"), as_user(app, "handler2"), as_user(app, "prod_head")
    assert highlighted(quality, c) == ["dispatch"]
    assert highlighted(clerk, c) == [] and "withdraw" in offered(clerk, c)
    assert step(quality, c, "dispatch", unit_id=unit(db.session, "生产部").id).status_code == 204
    assert "reassign" in offered(quality, c) and highlighted(quality, c) == []     # not 改派部门
    assert highlighted(handler, c) == ["propose"]                                  # the handler's own step
    assert step(handler, c, "propose", **{**PROPOSAL, "kind": "apology", "amount": ""}).status_code == 204
    assert highlighted(head, c) == ["approve"]
    assert step(head, c, "approve").status_code == 204
    assert highlighted(handler, c) == ["answer"] and highlighted(clerk, c) == ["answer"]
    assert step(clerk, c, "answer", method="phone", accepted="yes").status_code == 204
    assert highlighted(clerk, c) == ["survey"]
    assert step(clerk, c, "survey", score="5").status_code == 204
    db.session.refresh(c)
    assert c.stage == "closed" and "reopen" in offered(quality, c) and highlighted(quality, c) == []  # not 重新处理


def test_a_rejection_shows_and_the_proposal_comes_back_to_edit(login_as, app):
    clerk = login_as("receiver")
    c = register_on_screen(clerk, severity="serious")
    quality, handler, manager = as_user(app, "quality"), as_user(app, "handler2"), as_user(app, "manager")
    step(quality, c, "dispatch", unit_id=unit(db.session, "生产部").id)
    step(handler, c, "propose", findings="发网破损", root_cause="未按规定佩戴发网", cause_category="man",
         kind="compensation", amount="300", text="赔偿 300 元并致歉")
    record = handler.get(f"/complaints/{c.id}").get_data(as_text=True)
    assert "待总经理审批" in record and "方案被驳回" not in record
    db.session.refresh(c)
    assert manager.post(f"/complaints/{c.id}/card/reject", {"version": c.version, "comment": "金额偏高，先协商换货"},
                        htmx=True).status_code == 200
    record = handler.get(f"/complaints/{c.id}").get_data(as_text=True)
    panel = record.split('id="action-panel"', 1)[1].split("</section>", 1)[0]
    assert "方案被驳回：" in panel and "金额偏高，先协商换货" in panel and "王建国" in panel
    assert "待总经理审批" not in record and "已驳回" in record                   # the proposal card
    form = handler.get(f"/complaints/{c.id}/act/propose", htmx=True).get_data(as_text=True)
    assert ">发网破损</textarea>" in form and ">赔偿 300 元并致歉</textarea>" in form
    assert "方案被驳回：" in form and "金额偏高，先协商换货" in form               # why, above the form
    assert 'value="300.00"' in form and re.search(r'value="compensation" checked', form)
    assert re.search(r'value="man" checked', form)
    menu = handler.get(f"/complaints/{c.id}/actions", htmx=True).get_data(as_text=True)
    assert "金额偏高，先协商换货" in menu                                          # the panel's own fragment
    assert step(handler, c, "propose", findings="发网破损", root_cause="未按规定佩戴发网", cause_category="man",
                kind="exchange", amount="", text="换货并致歉").status_code == 204
    record = handler.get(f"/complaints/{c.id}").get_data(as_text=True)
    assert "方案被驳回" not in record and "已驳回" not in record and "待总经理审批" in record


def test_quality_corrects_and_the_timeline_shows_old_and_new(login_as, app):
    clerk = login_as("receiver")
    c = register_on_screen(clerk)
    quality = as_user(app, "quality")
    form = quality.get(f"/complaints/{c.id}/act/correct", htmx=True).get_data(as_text=True)
    assert 'name="customer_phone" maxlength="20" inputmode="tel" value="13812345678"' in form
    assert 'value="王女士"' in form and 'name="reason"' in form
    unchanged = step(quality, c, "correct", customer_name="王女士", customer_phone="13812345678", reason="核对")
    assert unchanged.status_code == 422 and "没有修改任何内容" in unchanged.get_data(as_text=True)
    bad = step(quality, c, "correct", customer_phone="12345", reason="更正")
    assert bad.status_code == 422 and "电话号码格式不对" in bad.get_data(as_text=True)
    assert step(quality, c, "correct", customer_phone="13900001111", product_name="五仁月饼",
                reason="顾客来电更正手机号").status_code == 204
    record = quality.get(f"/complaints/{c.id}").get_data(as_text=True)
    timeline = record.split('class="timeline"', 1)[1]
    assert "更正登记信息" in timeline and "顾客来电更正手机号" in timeline
    assert "电话：13812345678 → 13900001111" in timeline and "商品：（空） → 五仁月饼" in timeline
    # The first responder may correct too; another store's clerk sees nothing of it.
    assert step(clerk, c, "correct", customer_name="王丽", reason="姓名写错").status_code == 204
    assert as_user(app, "receiver2").get(f"/complaints/{c.id}/act/correct").status_code == 404


def test_corrected_contacts_stay_masked_for_whoever_sees_them_masked(login_as, app):
    clerk = login_as("receiver")
    c = register_on_screen(clerk)
    quality = as_user(app, "quality")
    step(quality, c, "dispatch", unit_id=unit(db.session, "销售部").id)
    step(quality, c, "reassign", unit_id=unit(db.session, "生产部").id)     # 销售部 still sees it, masked
    step(quality, c, "correct", customer_phone="13900001111", reason="顾客换了手机号")
    sales = as_user(app, "handler")
    page = sales.get(f"/complaints/{c.id}").get_data(as_text=True)
    assert "138****5678" in page and "电话：138****5678 → 139****1111" in page
    assert "13900001111" not in page and "13812345678" not in page
    assert "act/correct" not in page                                      # and cannot correct
    assert "电话：13812345678 → 13900001111" in as_user(app, "handler2").get(f"/complaints/{c.id}").get_data(as_text=True)


def test_the_department_finds_it_unreasonable_on_the_screen(login_as, app):
    c = make_complaint(db.session, "investigating", investigator="handler2")
    handler = login_as("handler2")
    record = handler.get(f"/complaints/{c.id}").get_data(as_text=True)
    assert "待调查认定" in record and "act/not_ours" in record
    form = handler.get(f"/complaints/{c.id}/act/not_ours", htmx=True).get_data(as_text=True)
    assert "投诉是否合理" in form and 'name="other_party"' in form and 'name="explanation"' in form
    resp = step(handler, c, "not_ours", valid="1", explanation="承运方挤压")
    assert resp.status_code == 422 and "请选择责任方" in resp.get_data(as_text=True)
    assert step(handler, c, "not_ours", valid="0", explanation="经检验头发非生产环节带入，已向顾客说明").status_code == 204
    db.session.refresh(c)
    assert c.stage == "follow_up" and c.valid is False and c.company_responsible is False
    record = handler.get(f"/complaints/{c.id}").get_data(as_text=True)
    assert "投诉不合理" in record and "经检验头发非生产环节带入" in record


def test_an_inquiry_is_transferred_from_the_counter(login_as, app):
    clerk = login_as("receiver")
    q = register_on_screen(clerk, type="inquiry", content="礼盒能开增值税发票吗？")
    assert "transfer_inquiry" in offered(clerk, q) and highlighted(clerk, q) == ["answer_inquiry"]
    form = clerk.get(f"/complaints/{q.id}/act/transfer_inquiry", htmx=True).get_data(as_text=True)
    assert 'name="unit_id"' in form and "24 小时内转出" in form
    sales2 = as_user(app, "sales2")
    assert sales2.get(f"/complaints/{q.id}").status_code == 404                # not theirs yet
    assert step(clerk, q, "transfer_inquiry", unit_id=unit(db.session, "销售部").id,
                investigator_id=user(db.session, "sales2").id).status_code == 204
    assert highlighted(sales2, q) == ["answer_inquiry"]
    assert q.number in sales2.get("/handler/").get_data(as_text=True)          # in the department's queue
    assert q.number not in as_user(app, "quality").get("/quality/").get_data(as_text=True)  # no longer 待分派
    assert step(sales2, q, "answer_inquiry", method="phone", note="可以开具").status_code == 204
    db.session.refresh(q)
    assert q.stage == "answered" and q.answered_by_id == user(db.session, "sales2").id


def test_the_expected_step_comes_first_and_withdrawing_last(login_as, app):
    """A clerk's first button on a new complaint is not 顾客撤诉; quality's steps that end the work
    (撤诉, 重复登记) come after the ordinary ones, 核实并分派 first."""
    def order(web, c):
        page = web.get(f"/complaints/{c.id}").get_data(as_text=True)
        panel = page.split('id="action-panel"', 1)[1].split("</section>", 1)[0]
        return re.findall(r'href="/complaints/\d+/act/(\w+)"', panel)
    clerk = login_as("receiver")
    c = register_on_screen(clerk)
    mine = order(clerk, c)
    assert "withdraw" in mine and mine[-1] == "withdraw" and mine[0] != "withdraw"
    quality = as_user(app, "quality")
    theirs = order(quality, c)
    assert theirs[0] == "dispatch" and set(theirs[-2:]) == {"withdraw", "mark_duplicate"}
    assert highlighted(quality, c) == ["dispatch"]
