"""Builders: users, units and complaints made through the real domain functions (intake.register,
workflow.act), so that a test says only what matters to it.

Each builder takes the session first: `session` in domain tests (no app), `db.session` in tests with
the app. They need the demo company (the `company` or `demo` fixture) for their users and units.

    c = make_complaint(session, "pending_approval", severity="serious")
    act(session, "manager", c, "approve")
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import select

from domain import intake, workflow
from models.complaint import Category, Complaint
from models.org import OrgUnit
from models.user import User

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 23, 3, 0, tzinfo=timezone.utc)      # Monday 11:00 in Shanghai, a working day

# The closed loop's stages in order (SPEC §3), as make_complaint reaches them.
STAGES = ("new", "investigating", "pending_approval", "executing", "verifying", "follow_up", "closed")
# Who works in the demo's departments (demo.ROUTES): (investigator, head).
DEPARTMENTS = {"生产部": ("handler2", "prod_head"), "销售部": ("sales2", "handler"), "市场部": ("market", "market_head"),
               "仓储物流部": (None, "logistics_head"), "客服中心": (None, "cs_head")}
PROPOSAL = dict(findings="生产线头发网破损", root_cause="员工未按规定佩戴发网", cause_category="man", kind="refund",
                amount="68", text="退款 68 元并致歉")


def user(session, username: str) -> User:
    return session.scalar(select(User).where(User.username == username))


def unit(session, path: str) -> OrgUnit:
    """A unit by name, or by its path when the name repeats ("嘉兴食品厂/加工一班")."""
    found = None
    for name in path.split("/"):
        query = select(OrgUnit).where(OrgUnit.name == name)
        if found is not None:
            query = query.where(OrgUnit.parent_id == found.id)
        found = session.scalar(query)
    return found


def category_id(session, name: str = "异物") -> int:
    return session.scalar(select(Category.id).where(Category.name == name))


def register(session, clerk: str = "receiver", *, at: datetime = NOW, token: str | None = None,
             **fields) -> Complaint:
    """A complaint registered by `clerk` through domain.intake (a hair in a moon cake, general);
    `fields` are intake.IntakeData's; `token` the form's (its pending files are attached)."""
    data = dict(customer_name="王女士", customer_phone="13812345678", content="月饼里有头发",
                category_id=category_id(session), severity="general")
    data.update(fields)
    return intake.register(session, user(session, clerk), intake.IntakeData(**data), now=at, tz=TZ,
                           token=token).complaint


def act(session, who: str, complaint: Complaint, action: str, *, at: datetime = NOW, **fields) -> Complaint:
    """`who` takes `action` on `complaint` with the form's version, as a screen would."""
    return workflow.act(session, user(session, who), complaint, action, workflow.command(action, **fields),
                        version=complaint.version, now=at)


def make_complaint(session, stage: str = "new", *, clerk: str = "receiver", at: datetime = NOW,
                   dept: str = "生产部", investigator: str | None = None, who: dict | None = None,
                   when: dict | None = None, proposal: dict | None = None, corrective: str | None = None,
                   **fields) -> Complaint:
    """A complaint registered by `clerk` (intake `fields`) and taken along the closed loop to `stage`
    with workflow.act, each step by the person who usually takes it:

    dispatch to `dept` (quality; naming `investigator` if given) → [add_action `corrective`] → propose
    (`PROPOSAL` updated with `proposal`; by the investigator, else the department's) → approve (the
    department's head, or the manager when the approval level or the proposer says so) → answer
    (the proposer; the customer accepts) → [verify: quality, effective] → survey (the clerk, 5) → closed.

    `verifying` adds a corrective action (text `corrective`, else 全员培训发网佩戴) so that there is one
    to verify. `who` and `when` map an action to the username taking it and the time it happens at
    (default: `at`, the registration time)."""
    assert stage in STAGES, f"make_complaint: no stage {stage!r} (one of {', '.join(STAGES)})"
    who, when = who or {}, when or {}
    c = register(session, clerk, at=at, **fields)
    target = STAGES.index(stage)
    if target == 0:
        return c
    worker, head = DEPARTMENTS.get(dept, (None, None))

    def step(default, action, **values):
        return act(session, who.get(action, default), c, action, at=when.get(action, at), **values)

    step("quality", "dispatch", unit_id=unit(session, dept).id,
         investigator_id=user(session, investigator).id if investigator else None)
    if stage == "verifying" and corrective is None:
        corrective = "全员培训发网佩戴"
    proposer = who.get("propose", investigator or worker or head)
    if corrective:
        step(proposer, "add_action", kind="corrective", text=corrective, owner_unit_id=unit(session, dept).id,
             due=(when.get("add_action", at) + timedelta(days=30)).date())
    if target == 1:
        return c
    step(proposer, "propose", **{**PROPOSAL, **(proposal or {})})
    if target == 2:
        return c
    step("manager" if c.approval_level == "manager" or proposer == head or head is None else head, "approve")
    if target == 3:
        return c
    step(proposer, "answer", method="phone", accepted=True)
    if c.stage == "verifying":
        if target == 4:
            return c
        step("quality", "verify", verdicts={a.id: ("effective", "") for a in c.actions})
    if target <= 5:
        assert c.stage == stage, f"make_complaint: reached {c.stage}, not {stage}"
        return c
    step(clerk, "survey", score=5, comment="满意")
    assert c.stage == stage, f"make_complaint: reached {c.stage}, not {stage}"
    return c


# --- over HTTP (tests with the app) -----------------------------------------------------------------

def as_user(app, username: str):
    """A second browser, logged in as `username` (login_as gives the first)."""
    from tests.conftest import Web
    web = Web(app.test_client())
    assert web.login(username).status_code == 303
    return web


def register_on_screen(web, **data) -> Complaint:
    """A complaint registered through the receiver's form (`web` is a logged-in receiver)."""
    from models import db
    page = web.get("/receiver/").get_data(as_text=True)
    token = re.search(r'name="token" type="hidden" value="([0-9a-f]{32})"', page).group(1)
    form = {"token": token, "customer_name": "王女士", "customer_phone": "13812345678", "content": "月饼里有头发",
            "category_id": str(category_id(db.session)), "severity": "general", "type": "complaint",
            "channel": "walk_in", **data}
    assert web.post("/receiver/new", form, htmx=True, content_type="multipart/form-data").status_code == 204
    return db.session.scalars(select(Complaint).order_by(Complaint.id.desc())).first()


def step(web, complaint: Complaint, action: str, **data):
    """Post action `action`'s form on the record page (HTMX), with the complaint's current version."""
    from models import db
    db.session.refresh(complaint)
    return web.post(f"/complaints/{complaint.id}/act/{action}", {"version": complaint.version, **data}, htmx=True)
