"""Every page the customer can open (SPEC §7) is scanned, at every stage of the loop, for what must
never reach them: a member of staff's name, an internal note (findings, root cause, the handler's
notes, the pause reason, corrective actions, the dispatcher's and approver's comments, the internal
category of the cause), the department handling it, and an amount before it was approved."""
import re
from datetime import timedelta

from sqlalchemy import select

from domain.portal import links
from models import db, utcnow
from models.user import User
from tests.builders import act, register, unit, user
from tests.web.test_public_complain import SECRET, csrf_of, customer

INTERNAL = ["生产线发网破损（内部）", "员工甲未按规定佩戴发网", "顾客语气很冲（内部）", "等检测报告（内部）",
            "全员培训发网佩戴（内部）", "先核对批次（内部）", "金额再压一压（内部）", "人（人员）", "生产部", "品管部"]


def scan(pages: dict, staff: list[str], amount_shown: bool) -> None:
    for where, text in pages.items():
        text = re.sub(r'<input[^>]*type="hidden"[^>]*>', "", text)     # CSRF and form tokens: random hex
        for name in staff:
            assert name not in text, (where, name)
        for note in INTERNAL:
            assert note not in text, (where, note)
        if not amount_shown:
            assert "68" not in re.sub(r"TS-\d{6}-\d{4}|/track/\S+|/survey/\S+", "", text), where


def test_no_customer_page_shows_staff_notes_departments_or_unapproved_amounts(app, demo):
    staff = [name for name in db.session.scalars(select(User.display_name)) if name]
    c = register(db.session, customer_name="周女士", customer_phone="13900005555", contact_consent=True,
                 extra={"complained_user_id": user(db.session, "ja_clerk").id})
    db.session.commit()
    web = customer(app)
    progress = links.follow_path(SECRET, c)

    def customer_pages():
        pages = {"progress": web.get(progress).get_data(as_text=True)}
        form = web.get("/track").get_data(as_text=True)
        pages["lookup ok"] = web.post("/track", {"csrf_token": csrf_of(form), "number": c.number, "proof": "5555"},
                                      csrf=False, follow_redirects=True).get_data(as_text=True)
        pages["lookup wrong"] = web.post("/track", {"csrf_token": csrf_of(form), "number": c.number, "proof": "0000"},
                                         csrf=False).get_data(as_text=True)
        pages["prefilled"] = web.get(f"/track/{c.number}").get_data(as_text=True)
        pages["form"] = web.get("/complain").get_data(as_text=True)
        return pages

    scan(customer_pages(), staff, amount_shown=False)
    act(db.session, "quality", c, "dispatch", unit_id=unit(db.session, "生产部").id,
        investigator_id=user(db.session, "handler2").id, comment="先核对批次（内部）")
    act(db.session, "handler2", c, "pause", reason="等检测报告（内部）")
    db.session.commit()
    scan(customer_pages(), staff, amount_shown=False)
    act(db.session, "handler2", c, "resume", note="顾客语气很冲（内部）")
    act(db.session, "handler2", c, "add_action", kind="corrective", text="全员培训发网佩戴（内部）",
        owner_unit_id=c.responsible_unit_id, due=(utcnow() + timedelta(days=9)).date())
    act(db.session, "handler2", c, "propose", findings="生产线发网破损（内部）", root_cause="员工甲未按规定佩戴发网",
        cause_category="man", kind="refund", amount="68", text="为您退款 68 元并致歉。")
    db.session.commit()
    scan(customer_pages(), staff, amount_shown=False)          # waiting for approval: no amount yet
    act(db.session, "manager", c, "reject", comment="金额再压一压（内部）")
    act(db.session, "handler2", c, "propose", findings="生产线发网破损（内部）", root_cause="员工甲未按规定佩戴发网",
        cause_category="man", kind="refund", amount="68", text="为您退款 68 元并致歉。")
    act(db.session, "manager", c, "approve")
    db.session.commit()
    scan(customer_pages(), staff, amount_shown=False)          # approved, not yet told: still nothing
    act(db.session, "handler2", c, "answer", method="phone", accepted=True, note="顾客语气很冲（内部）")
    act(db.session, "quality", c, "verify", verdicts={a.id: ("effective", "") for a in c.actions})
    token = links.issue(db.session, c, utcnow(), 7)
    db.session.commit()
    pages = customer_pages()
    assert "为您退款 68 元并致歉" in pages["progress"]              # the approved answer, once given
    survey = web.get(f"/survey/{token}").get_data(as_text=True)
    pages["survey"] = survey
    done = web.post(f"/survey/{token}", {"csrf_token": csrf_of(survey), "score": "5", "confirm": "y"}, csrf=False,
                    follow_redirects=True)
    pages["thanks"] = done.get_data(as_text=True)
    pages["used link"] = web.get(f"/survey/{token}").get_data(as_text=True)
    pages["closed progress"] = web.get(progress).get_data(as_text=True)
    scan(pages, staff, amount_shown=True)
    assert c.stage == "closed"
