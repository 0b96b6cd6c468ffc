"""Issue 15, the closed loop's rules: validity decided in the investigation, a repeat complaint
telling whoever handled the first, inquiries transferred to a department (and the transfer clock),
corrections after intake, what a rejection leaves behind, and the step expected next."""
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from domain import attribution, halfyear, queues, workflow
from domain.errors import InvalidInput, InvalidInputs, NotAllowed
from models.complaint import Assignment, ComplaintEvent, Notification
from models.sla import SlaClock
from tests.builders import NOW, PROPOSAL, act, category_id, make_complaint, register, unit, user

HOUR = timedelta(hours=1)


def notices(session, c, kind=None):
    """{username: [kinds]} of the notices about `c` (only `kind` when given)."""
    from models.user import User
    query = select(User.username, Notification.kind).join(User, User.id == Notification.user_id) \
        .where(Notification.complaint_id == c.id)
    if kind:
        query = query.where(Notification.kind == kind)
    out = {}
    for name, k in session.execute(query.order_by(Notification.id)):
        out.setdefault(name, []).append(k)
    return out


def clock(session, c, kind):
    return session.scalar(select(SlaClock).where(SlaClock.complaint_id == c.id, SlaClock.kind == kind))


# --- 1. validity is decided in the investigation ---------------------------------------------

def test_dispatch_decides_nothing_about_validity_the_proposal_does(session, company):
    c = make_complaint(session, "investigating")
    assert (c.valid, c.company_responsible) == (None, None)          # not decided yet
    act(session, "quality", c, "reassign", unit_id=unit(session, "销售部").id)
    assert (c.valid, c.company_responsible) == (None, None)
    act(session, "sales2", c, "propose", **PROPOSAL)
    assert (c.valid, c.company_responsible) == (True, True)          # 投诉合理，我司责任


def test_the_department_finds_it_unreasonable_and_explains(session, company):
    c = make_complaint(session, "investigating", investigator="handler2")
    with pytest.raises(NotAllowed):                                  # quality dispatches; the department decides
        act(session, "quality", c, "not_ours", valid=False, explanation="说明")
    with pytest.raises(NotAllowed):                                  # another department
        act(session, "sales2", c, "not_ours", valid=False, explanation="说明")
    with pytest.raises(InvalidInput) as err:                         # reasonable but whose? required
        act(session, "handler2", c, "not_ours", valid=True, explanation="承运方摔坏")
    assert err.value.field == "other_party"
    with pytest.raises(InvalidInput) as err:
        act(session, "handler2", c, "not_ours", valid=False, explanation=" ")
    assert err.value.field == "explanation"
    at = NOW + 5 * HOUR
    act(session, "handler2", c, "not_ours", at=at, valid=False, explanation="头发经检验为顾客自身的，已向顾客说明")
    assert c.stage == "follow_up" and (c.valid, c.company_responsible) == (False, False)
    assert c.explanation.startswith("头发经检验") and c.events[-1].kind == "not_ours"
    # The investigation's clocks stop, the follow-up's starts.
    assert clock(session, c, "initial_cause").stopped_at == at and clock(session, c, "proposal").stopped_at == at
    assert clock(session, c, "answer").stopped_at == at and clock(session, c, "follow_up").stopped_at is None
    assert not attribution.eligible(c)
    act(session, "receiver", c, "survey", at=at + HOUR, score=4)     # the explanation closes like an answer
    assert c.stage == "closed" and c.close_reason == "resolved"


def test_reasonable_but_another_partys_doing(session, company):
    c = make_complaint(session, "investigating", dept="仓储物流部")
    act(session, "logistics_head", c, "not_ours", valid=True, other_party="carrier", explanation="承运方运输中挤压")
    assert (c.valid, c.company_responsible, c.other_party) == (True, False, "carrier")


def test_the_complained_against_cannot_find_it_unfounded(session, company):
    c = make_complaint(session, "investigating", extra={"complained_user_id": user(session, "handler2").id})
    with pytest.raises(NotAllowed):
        act(session, "handler2", c, "not_ours", valid=False, explanation="与我无关")
    act(session, "prod_head", c, "not_ours", valid=False, explanation="经查不属实")   # the head may
    assert c.stage == "follow_up"


def test_an_earlier_approval_no_longer_stands_once_found_not_ours(session, company):
    c = make_complaint(session, "executing", who={"approve": "manager"})
    assert c in queues.to_attribute(session)
    act(session, "handler2", c, "answer", method="phone", accepted=False, note="顾客坚持是我们的问题")
    act(session, "handler2", c, "not_ours", valid=False, explanation="检验报告显示产品合格，已寄送报告")
    assert c.approved_at is None and not attribution.eligible(c)
    assert c not in queues.to_attribute(session)                    # nothing left to attribute


def test_half_year_counts_valid_and_not_valid_not_the_undecided(session, company):
    make_complaint(session, "investigating")                         # undecided
    make_complaint(session, "pending_approval")                      # valid
    c = make_complaint(session, "investigating")
    act(session, "handler2", c, "not_ours", valid=False, explanation="不属实")   # not valid
    register(session)                                                # new: undecided
    totals = halfyear.summarize(session, date(2026, 6, 1), date(2026, 12, 1), NOW + 24 * HOUR)["totals"]
    assert (totals["received"], totals["valid"], totals["not_valid"], totals["company"]) == (4, 1, 1, 1)


def test_attribution_waits_for_a_decided_validity(session, company):
    c = make_complaint(session, "executing")
    assert attribution.eligible(c)
    c.valid = None                                                  # not decided (as before issue 15's data)
    assert not attribution.eligible(c) and attribution.propose(c) is None


# --- 2. a repeat complaint tells whoever handled the first --------------------------------------

def test_a_repeat_complaint_notifies_everybody_who_handled_the_first(session, company):
    first = make_complaint(session, "closed", investigator="handler2", who={"approve": "manager"})
    act(session, "quality", first, "attribute", kind="store", unit_id=unit(session, "上海分公司/上海徐汇店").id,
        reason="门店")
    later = register(session, "xh_head", at=NOW + 48 * HOUR, extra={"repeat_of_id": first.id})
    told = notices(session, later, "repeat")
    # first responder, investigator (the proposer), the approver, quality (dispatch, verify,
    # attribute) and the heads of the responsible department — not the clerk registering it
    assert set(told) == {"receiver", "handler2", "manager", "quality", "prod_head"}
    assert all(kinds == ["repeat"] for kinds in told.values())
    assert notices(session, first, "repeat") == {}                  # the notice is about the new complaint


def test_a_new_complaint_that_is_no_repeat_tells_nobody_so(session, company):
    c = register(session, "receiver")
    assert notices(session, c, "repeat") == {}


# --- 3. inquiries transferred to a department ------------------------------------------------

def test_an_inquiry_is_transferred_and_the_department_answers(session, company):
    q = register(session, type="inquiry", content="请问贵公司的月饼礼盒能否开增值税发票？")
    assert clock(session, q, "dispatch").amount == 24                # seed 003: 24 h to transfer
    with pytest.raises(NotAllowed):
        act(session, "handler", q, "transfer_inquiry", unit_id=unit(session, "销售部").id)   # a handler can't
    with pytest.raises(InvalidInput) as err:
        act(session, "receiver", q, "transfer_inquiry")
    assert err.value.field == "unit_id"
    transferred = NOW + 2 * HOUR
    act(session, "receiver", q, "transfer_inquiry", at=transferred, unit_id=unit(session, "销售部").id,
        investigator_id=user(session, "sales2").id, comment="发票问题请销售部答复")
    assert q.stage == "new" and (q.responsible_unit_id, q.investigator_id) == (unit(session, "销售部").id,
                                                                               user(session, "sales2").id)
    assert session.scalar(select(Assignment.unit_id).where(Assignment.complaint_id == q.id)) == unit(session, "销售部").id
    assert notices(session, q, "inquiry_transferred") == {"handler": ["inquiry_transferred"],
                                                          "sales2": ["inquiry_transferred"]}
    # The transfer clock stopped on the transfer; the answer clock runs on.
    assert clock(session, q, "dispatch").stopped_at == transferred
    assert clock(session, q, "answer").stopped_at is None
    with pytest.raises(NotAllowed):                                  # another department cannot answer
        act(session, "handler2", q, "answer_inquiry", method="phone", note="可以")
    answered = NOW + 26 * HOUR
    act(session, "sales2", q, "answer_inquiry", at=answered, method="phone", note="可以开具，请提供开票信息")
    assert q.stage == "answered" and q.answered_by.username == "sales2"
    assert clock(session, q, "answer").stopped_at == answered
    assert clock(session, q, "dispatch").stopped_at == transferred   # not moved by the answer


def test_a_transferred_inquiry_reminds_the_department_not_quality(session, company):
    from domain import reminders
    from models.user import User
    q = register(session, type="inquiry")
    act(session, "receiver", q, "transfer_inquiry", at=NOW + HOUR, unit_id=unit(session, "销售部").id,
        investigator_id=user(session, "sales2").id)
    plain = register(session, type="inquiry")                     # not transferred: quality's
    session.commit()
    answer = clock(session, q, "answer")
    reminders.sweep(session, answer.warn_at)
    session.commit()

    def reminded(c):
        k = clock(session, c, "answer")
        return set(session.scalars(select(User.username).join(Notification, Notification.user_id == User.id)
                                   .where(Notification.dedupe_key.like(f"r{k.id}:warn:%"))))
    assert reminded(q) == {"sales2"}                              # the one to answer it
    assert reminded(plain) == {"quality", "quality2"}


def test_only_inquiries_are_transferred(session, company):
    c = register(session)
    assert "transfer_inquiry" not in {a.name for a in workflow.available(session, user(session, "quality"), c)}
    with pytest.raises(NotAllowed):
        act(session, "quality", c, "transfer_inquiry", unit_id=unit(session, "销售部").id)


def test_an_inquiry_answered_at_the_counter_stops_both_clocks(session, company):
    q = register(session, type="inquiry")
    act(session, "receiver", q, "answer_inquiry", at=NOW + HOUR, method="phone", note="营业到 21 点")
    assert clock(session, q, "dispatch").stopped_at == clock(session, q, "answer").stopped_at == NOW + HOUR


# --- 4. corrections after intake ----------------------------------------------------------

def test_quality_corrects_customer_and_product_with_a_reason(session, company):
    c = make_complaint(session, "investigating", extra={"product_name": "五仁月饼"})
    before = c.version
    act(session, "quality", c, "correct", customer_phone="139 0000 1111", product_name="五仁月饼",
        batch_no="B20261101", reason="顾客来电更正手机号，并补充批号")
    assert (c.customer_phone, c.batch_no, c.product_name) == ("13900001111", "B20261101", "五仁月饼")
    e = c.events[-1]
    assert e.kind == "correct" and e.version == before + 1 and e.comment == "顾客来电更正手机号，并补充批号"
    # only what changed, old → new (the unchanged product name is not there)
    assert e.changes == {"customer_phone": ["13812345678", "13900001111"], "batch_no": [None, "B20261101"]}
    assert c.stage == "investigating"


def test_a_correction_that_changes_nothing_is_refused(session, company):
    c = register(session)
    with pytest.raises(InvalidInput) as err:
        act(session, "quality", c, "correct", customer_name=" 王女士 ", customer_phone="13812345678", reason="核对")
    assert err.value.message == "没有修改任何内容。"
    with pytest.raises(InvalidInput) as err:
        act(session, "quality", c, "correct", customer_name="王丽", reason="")
    assert err.value.field == "reason"
    assert c.customer_name == "王女士" and len(c.events) == 1


def test_corrections_are_checked_as_at_intake(session, company):
    c = register(session, customer_email="wang@example.com")
    with pytest.raises(InvalidInputs) as err:
        act(session, "quality", c, "correct", customer_phone="12345", customer_email="not-an-address",
            quantity="many", ship_date="2026-13-01", customer_name="", reason="x")
    fields = {p.field for p in err.value.problems}
    assert fields == {"customer_phone", "customer_email", "quantity", "ship_date", "customer_name"}
    with pytest.raises(InvalidInputs) as err:                        # at least a phone or an e-mail
        act(session, "quality", c, "correct", customer_phone="", customer_email="", reason="x")
    assert {p.field for p in err.value.problems} == {"customer_phone"}
    act(session, "quality", c, "correct", customer_phone="", reason="顾客只留邮箱")     # the e-mail stays
    assert c.customer_phone is None and c.events[-1].changes == {"customer_phone": ["13812345678", None]}


def test_the_category_must_be_an_active_leaf(session, company):
    from models.complaint import Category
    c = register(session)
    top = session.scalar(select(Category).where(Category.name == "产品质量", Category.parent_id.is_(None)))
    assert top.children
    with pytest.raises(InvalidInputs):
        act(session, "quality", c, "correct", category_id=top.id, reason="x")
    other = session.scalar(select(Category).where(Category.parent_id == top.id, Category.id != c.category_id))
    other.active = False
    with pytest.raises(InvalidInputs):
        act(session, "quality", c, "correct", category_id=other.id, reason="x")
    other.active = True
    old = c.category.name
    act(session, "quality", c, "correct", category_id=other.id, reason="登记时选错了类别")
    assert c.category_id == other.id and c.events[-1].changes == {"category": [old, other.name]}


def test_who_may_correct(session, company):
    c = make_complaint(session, "closed")
    act(session, "receiver", c, "correct", customer_name="王丽", reason="顾客姓名写错")   # first responder, even closed
    act(session, "manager", c, "correct", order_no="SO-1", reason="补订单号")
    for who in ("handler2", "receiver2", "xh_head"):
        with pytest.raises(NotAllowed):                               # a handler; another store; the store's head
            act(session, who, c, "correct", customer_name="王", reason="x")
    assert c.customer_name == "王丽"


def test_a_corrected_amount_can_make_it_major(session, company):
    c = register(session)
    act(session, "quality", c, "correct", amount_involved="60000", reason="补登涉及金额")
    assert c.severity == "major" and c.severity_reasons == ["amount"]
    assert c.events[-1].changes == {"amount_involved": [None, "60000.00"], "severity": ["general", "major"]}
    assert set(notices(session, c, "major_registered")) == {"manager", "vp"}


def test_the_timeline_masks_personal_data_for_those_who_see_it_masked(session, company):
    changes = {"customer_phone": ["13812345678", "13900001111"], "product_name": [None, "月饼"],
               "customer_foreign": [False, True]}
    masked = workflow.correction_rows(changes, True)
    assert masked == [("电话", "138****5678", "139****1111", False), ("境外顾客", "否", "是", True),
                      ("商品", None, "月饼", False)]
    assert workflow.correction_rows(changes, False)[0] == ("电话", "13812345678", "13900001111", False)


def test_the_correction_form_starts_from_the_record(session, company):
    c = register(session, amount_involved="88", extra={"product_name": "月饼", "ship_date": date(2026, 11, 1)})
    values = workflow.ACTIONS["correct"].initial(session, c)
    assert values["customer_phone"] == "13812345678" and values["product_name"] == "月饼"
    assert values["amount_involved"] == "88.00" and values["ship_date"] == "2026-11-01"
    assert values["category_id"] == str(category_id(session)) and values["customer_foreign"] == "no"
    assert values["batch_no"] == ""


# --- 5. after a rejection -------------------------------------------------------------------

def test_a_rejection_tells_the_right_people_as_a_rejection(session, company):
    c = make_complaint(session, "pending_approval", severity="serious", investigator="handler2",
                       proposal={"amount": "300"})
    act(session, "manager", c, "reject", comment="金额偏高，请先与顾客协商换货")
    told = notices(session, c)
    assert told["receiver"][-1] == "rejected" and "stage:investigating" not in told["receiver"][1:]
    assert told["handler2"][-1] == "rejected"
    assert told["receiver"].count("rejected") == told["handler2"].count("rejected") == 1


def test_the_proposer_is_told_too(session, company):
    c = make_complaint(session, "pending_approval", severity="serious", who={"propose": "prod_head"})
    act(session, "manager", c, "reject", comment="再查")
    assert notices(session, c, "rejected") == {"prod_head": ["rejected"], "receiver": ["rejected"]}


def test_after_a_rejection_the_form_starts_from_the_rejected_proposal(session, company):
    c = make_complaint(session, "pending_approval", severity="serious", proposal={"amount": "300"})
    assert workflow.proposal_state(c) == "pending" and workflow.rejection(c) is None
    act(session, "manager", c, "reject", at=NOW + HOUR, comment="金额偏高")
    assert workflow.ACTIONS["propose"].initial(session, c) == {
        "findings": PROPOSAL["findings"], "root_cause": PROPOSAL["root_cause"], "cause_category": "man",
        "kind": "refund", "amount": "300.00", "text": PROPOSAL["text"]}
    r = workflow.rejection(c)
    assert r.comment == "金额偏高" and r.actor.username == "manager" and r.at == NOW + HOUR
    assert workflow.proposal_state(c) == "rejected" and workflow.last_rejection(c) is r
    act(session, "handler2", c, "log_contact", method="phone", note="再次联系")   # still the rejection
    assert workflow.rejection(c) is r
    act(session, "handler2", c, "propose", **{**PROPOSAL, "amount": "150"})
    assert workflow.rejection(c) is None and workflow.proposal_state(c) == "pending"
    act(session, "manager", c, "approve")
    assert workflow.proposal_state(c) == "approved"


def test_a_first_proposal_form_is_empty(session, company):
    c = make_complaint(session, "investigating")
    assert workflow.ACTIONS["propose"].initial(session, c) == {}


# --- 6. the expected next step ------------------------------------------------------------

def expected(session, who, c):
    a = workflow.expected(session, user(session, who), c)
    return a.name if a else None


def test_the_expected_step_for_each_stage_and_person(session, company):
    c = register(session)
    assert expected(session, "quality", c) == "dispatch"
    assert expected(session, "receiver", c) is None                 # withdraw, correct: side steps
    act(session, "quality", c, "dispatch", unit_id=unit(session, "生产部").id, investigator_id=user(session, "handler2").id)
    assert expected(session, "quality", c) is None                  # reassign is not the next step
    assert "reassign" in {a.name for a in workflow.available(session, user(session, "quality"), c)}
    assert expected(session, "handler2", c) == "propose"            # not not_ours, not hand_back
    act(session, "handler2", c, "add_action", kind="corrective", text="培训", owner_unit_id=unit(session, "生产部").id,
        due=date(2026, 12, 31))
    act(session, "handler2", c, "propose", **PROPOSAL)
    assert expected(session, "prod_head", c) == "approve" and expected(session, "handler2", c) is None
    act(session, "prod_head", c, "approve")
    assert expected(session, "handler2", c) == "answer" and expected(session, "receiver", c) == "answer"
    assert expected(session, "quality", c) is None                  # attribute: a side step
    act(session, "handler2", c, "answer", method="phone", accepted=True)
    assert expected(session, "quality", c) == "verify"
    act(session, "quality", c, "verify", verdicts={c.actions[0].id: ("effective", "")})
    assert expected(session, "receiver", c) == "survey"
    act(session, "receiver", c, "survey", score=2, comment="不满意")
    assert expected(session, "quality", c) == "close"               # decide: not another survey, not reopen
    act(session, "quality", c, "close", note="已尽力")
    assert c.stage == "closed" and expected(session, "quality", c) is None   # never reopen
    assert "reopen" in {a.name for a in workflow.available(session, user(session, "quality"), c)}


def test_the_expected_step_of_an_inquiry(session, company):
    q = register(session, type="inquiry")
    assert expected(session, "receiver", q) == "answer_inquiry"      # not the transfer
    act(session, "receiver", q, "transfer_inquiry", unit_id=unit(session, "销售部").id)
    assert expected(session, "sales2", q) == "answer_inquiry"
