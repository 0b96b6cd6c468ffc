"""The printed form 《客户投诉记录及处理表》 (/complaints/<id>/print) carries every section of the record:
on a closed complaint, every filled field of the investigation, the approval, the answer, the
verification, the survey and the closure appears on the page."""
import re

from markupsafe import escape

from models import db
from tests.builders import NOW, act, as_user, make_complaint, unit


def cell(page, ident):
    """The text of the print page's cell `ident`."""
    found = re.search(rf'id="{ident}">(.*?)</td>', page, re.S)
    assert found, ident
    return found.group(1)


def closed_complaint():
    """A complaint closed the long way: a corrective action, a rejection, a second proposal
    approved with a comment by the manager, an answer with the customer's words, verified with a
    reason, a survey with a comment."""
    s = db.session
    c = make_complaint(s, "pending_approval", investigator="handler2", severity="serious", corrective="全员培训发网佩戴",
                       proposal={"amount": "88", "text": "退款 88 元并致歉"},
                       extra={"product_name": "五仁月饼", "batch_no": "B20261101"})
    act(s, "manager", c, "reject", comment="金额偏低，请与顾客再沟通")
    act(s, "handler2", c, "propose", findings="生产线头发网破损，已更换", root_cause="员工未按规定佩戴发网",
        cause_category="man", kind="compensation", amount="188", text="赔偿 188 元并当面致歉")
    act(s, "manager", c, "approve", comment="同意，尽快落实")
    act(s, "handler2", c, "answer", method="visit", accepted=True, note="顾客接受赔偿")
    act(s, "quality", c, "verify", verdicts={a.id: ("waived", "已在日常巡检中确认") for a in c.actions})
    act(s, "receiver", c, "survey", score=4, comment="处理及时")
    s.commit()
    assert c.stage == "closed"
    return c


def test_every_filled_field_of_a_closed_complaint_is_printed(app, demo):
    c = closed_complaint()
    page = as_user(app, "quality").get(f"/complaints/{c.id}/print").get_data(as_text=True)
    text = str(escape(page))   # compare as the page shows them
    for value in ("生产部", "刘洋",                                      # responsible department, investigator
                  "生产线头发网破损，已更换", "员工未按规定佩戴发网",     # findings, root cause
                  "赔偿 188 元并当面致歉", "¥188.00",                     # the text to the customer, the amount
                  "全员培训发网佩戴",                                    # the corrective action
                  "同意，尽快落实", "王建国",                             # the approval comment, the approver
                  "金额偏低，请与顾客再沟通",                             # the earlier rejection
                  "顾客接受赔偿", "已在日常巡检中确认", "李静",          # the answer's note, the verdict's reason, who verified
                  "处理及时", "五仁月饼", "B20261101"):
        assert value in page, value
    assert cell(page, "print-valid") == "合理" and cell(page, "print-responsible") == "是"
    cause = cell(page, "print-cause")
    assert "原因类别：人" in cause and "调查结果：" in cause
    proposal = cell(page, "print-proposal")
    assert "处理方式：赔偿" in proposal and "¥188.00" in proposal and "赔偿 188 元并当面致歉" in proposal
    actions = cell(page, "print-actions")
    assert "1. 纠正措施：全员培训发网佩戴" in actions and "责任：生产部" in actions and "验证：免验证" in actions
    approval = cell(page, "print-approval")
    assert "驳回（王建国" in approval and "批准（总经理审批）：同意，尽快落实" in approval
    answer = cell(page, "print-answer")
    assert "上门/到店 · 刘洋 ·" in answer and "顾客认可" in answer and "顾客意见：顾客接受赔偿" in answer
    verify = cell(page, "print-verify")
    assert "1. 全员培训发网佩戴：免验证（已在日常巡检中确认） · 李静 ·" in verify
    assert cell(page, "print-satisfaction") == "4 / 5：处理及时"
    assert cell(page, "print-closed") == "2026-11-23"                     # NOW in Shanghai
    assert cell(page, "print-close-reason") == "已解决"
    assert "\n" not in cell(page, "print-answer")                        # cells keep no stray line breaks


def test_an_open_complaint_prints_what_is_decided_so_far(app, demo):
    c = make_complaint(db.session, "investigating", investigator="handler2")
    page = as_user(app, "handler2").get(f"/complaints/{c.id}/print").get_data(as_text=True)
    assert cell(page, "print-valid") == "未判定" and cell(page, "print-responsible") == "未判定"
    assert cell(page, "print-approval") == "" and cell(page, "print-closed") == ""
    c2 = make_complaint(db.session, "investigating", investigator="handler2")
    act(db.session, "handler2", c2, "not_ours", valid=False, explanation="顾客未按说明保存，已解释")
    db.session.commit()
    page = as_user(app, "handler2").get(f"/complaints/{c2.id}/print").get_data(as_text=True)
    assert cell(page, "print-valid") == "不合理" and "顾客未按说明保存，已解释" in page


def test_the_print_view_is_for_the_complaints_scope_only(app, demo):
    c = make_complaint(db.session, "new", extra={"complained_unit_id": unit(db.session, "上海徐汇店").id})
    assert as_user(app, "receiver2").get(f"/complaints/{c.id}/print").status_code == 404
