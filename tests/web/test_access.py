"""Who may open what, for every route in the URL map (STYLE: Access; SPEC §1 Scoping).

Each endpoint has a rule in ACCESS: who may use it. The test for an endpoint checks that anonymous
visitors are sent to the login page (401 with HX-Redirect for HTMX), that every probe user the rule
does not name gets 403, that those it names get the page, and that an object outside one's scope is
404. A route without a rule fails `test_every_route_has_an_access_rule`: add one to ACCESS.

Probe users: receiver (上海徐汇店) and receiver2 (杭州西湖店), cs_head (客服中心: receiver and handler),
handler (head of 销售部) and handler2 (生产部), market (a handler of 市场部, the department the half-year
summary is announced to), quality, manager, admin. The objects in the URLs are real: a complaint
registered at 上海徐汇店 with a photo and dispatched to 生产部 (receiver2, cs_head, handler and market have
the roles for it but not the scope), a published penalty on another, a half-year summary …
POST-only routes are checked for the refusals alone (anonymous, wrong role, outside the scope): those
are answered before anything is written, and every case shares one database (module_app)."""
import io
from dataclasses import dataclass, field

import pytest
from flask import url_for
from PIL import Image
from sqlalchemy import select

from domain import attachments, audit, exports, halfyear, penalties, replies
from domain.settings import company_tz
from models import db, utcnow
from models.audit import AuditEvent
from models.complaint import Category
from tests.builders import act, make_complaint, unit, user
from app import create_app
from tests.conftest import NO_REDIS, UPLOAD_DIR, Web

PROBES = ("receiver", "receiver2", "cs_head", "handler", "handler2", "market", "quality", "manager", "admin")
STAFF = frozenset(PROBES) - {"admin"}      # whoever handles complaints
PUBLIC = "public"          # no login needed
LOGGED_IN = "logged in"    # any logged-in user, whatever the role


@dataclass(frozen=True)
class Rule:
    who: frozenset | str                  # usernames among PROBES who may, or PUBLIC / LOGGED_IN
    args: dict = field(default_factory=dict)   # URL values: a name of World's, a literal, or a dict by user
    ok: int | dict = 200                  # what those who may get (GET); a dict: by username (None:
                                          # anonymous, "*": the others)
    outsiders: tuple = ()                 # have the role, but the object is outside their scope: 404


def rule(who, ok=200, outsiders=(), **args):
    return Rule(frozenset(who) if not isinstance(who, str) else who, args, ok, tuple(outsiders))


IN_SCOPE = {"receiver", "handler2", "quality", "manager"}             # of both complaints below
OUTSIDERS = ("receiver2", "cs_head", "handler", "market")             # the roles, not the scope
ON_COMPLAINT = dict(who=IN_SCOPE, outsiders=OUTSIDERS, complaint_id="complaint")
ON_PENALTY = dict(who=IN_SCOPE, outsiders=OUTSIDERS, complaint_id="penalised")
RECEIVERS = {"receiver", "receiver2", "cs_head"}
ADMIN = {"admin"}
QM = {"quality", "manager"}
HALF_YEAR = {"market", "quality", "manager"}

# The action asked for on the record page (GET /act/<action>): one this user may take on `complaint`
# (another, or one outside the scope, is refused by the action's own rule: test_workflow_web).
ACTION_FOR = {"receiver": "withdraw", "handler2": "log_contact", "quality": "reassign", "manager": "reassign"}

ACCESS = {
    # auth and public
    "auth.index": rule(PUBLIC, ok=302),
    "auth.login": rule(PUBLIC, ok={None: 200, "*": 302}),     # logged in: to one's home
    "auth.logout": rule(PUBLIC),
    "auth.set_language": rule(PUBLIC, code="en"),
    "auth.change_password": rule(LOGGED_IN),
    "auth.no_role": rule(LOGGED_IN),
    "public.healthz": rule(PUBLIC),
    "ops.metrics": rule(PUBLIC, ok=403),     # Prometheus: the admin's token or address ranges only (none here)
    # the customer's pages (issue 16): no login; a made-up number, code or token is 404 for everyone
    "public.complain": rule(PUBLIC),
    "public.track": rule(PUBLIC),
    "public.track_number": rule(PUBLIC, number="TS-202611-0001"),
    "public.progress": rule(PUBLIC, ok=404, number="TS-209901-0001", code="a" * 16),
    "public.add": rule(PUBLIC, number="TS-209901-0001", code="a" * 16),
    "public.rate_now": rule(PUBLIC, number="TS-209901-0001", code="a" * 16),
    "public.survey": rule(PUBLIC, ok=404, token="x" * 16),
    "public.survey_done": rule(PUBLIC, ok=404, token="x" * 16),
    "public.survey_new": rule(PUBLIC, token="x" * 16),
    "static": rule(PUBLIC, filename="app.css"),
    # each role's home
    "receiver.home": rule(RECEIVERS),
    "handler.home": rule({"cs_head", "handler", "handler2", "market"}),
    "quality.home": rule({"quality"}),
    "quality.attribute": rule({"quality"}),
    "manager.home": rule({"manager"}),
    "admin.home": rule(ADMIN),
    # intake (the receiver's form and its fragments)
    "receiver.submit": rule(RECEIVERS),
    "receiver.more": rule(RECEIVERS),
    "receiver.earlier": rule(RECEIVERS),
    "receiver.severity_note": rule(RECEIVERS),
    "receiver.pending_thumb": rule({"receiver"}, outsiders=("receiver2", "cs_head"), attachment_id="pending"),
    "receiver.pending_remove": rule({"receiver"}, outsiders=("receiver2", "cs_head"), attachment_id="pending"),
    "receiver.done": rule({"receiver"}, outsiders=("receiver2", "cs_head"), complaint_id="complaint"),
    # the register and a record
    "complaints.index": rule(STAFF),
    "complaints.count": rule(STAFF),
    "complaints.record": rule(**ON_COMPLAINT),
    "complaints.print_view": rule(**ON_COMPLAINT),
    "complaints.slip": rule(**ON_COMPLAINT),                  # the customer's slip (issue 16)
    "complaints.reveal": rule(**ON_COMPLAINT),
    "complaints.action_menu": rule(**ON_COMPLAINT),
    "complaints.take_action": rule(**ON_COMPLAINT, action=ACTION_FOR),
    "complaints.card": rule(**ON_COMPLAINT, ok=409),          # not waiting for approval: says so
    "complaints.card_decision": rule(**ON_COMPLAINT, action="approve"),
    "complaints.attachment": rule(**ON_COMPLAINT, attachment_id="photo"),
    "complaints.reply_text": rule(**ON_COMPLAINT, field="text", reply_template="reply"),
    # a complaint's penalty
    "penalties.card": rule(**ON_PENALTY),
    "penalties.notice": rule(**ON_PENALTY),
    "penalties.take_step": rule(**ON_PENALTY),
    "penalties.card_decision": rule(**ON_PENALTY, step="approve"),
    # notices
    "notices.index": rule(STAFF),
    "notices.bell": rule(STAFF),
    # reports
    "reports.ledger_page": rule(STAFF),
    "reports.ledger_export": rule(STAFF),
    "reports.overdue": rule(STAFF),
    "reports.store_audit_page": rule(QM),
    "reports.concealment_review": rule(QM, complaint_id="complaint"),
    "reports.penalty_report": rule(QM),
    "reports.half_year_list": rule(HALF_YEAR),
    "reports.half_year_generate": rule(QM),
    "reports.half_year_making": rule(HALF_YEAR, period="period"),
    "reports.half_year_report": rule(HALF_YEAR, report_id="report"),
    "reports.half_year_xlsx": rule(HALF_YEAR, report_id="report"),
    # the monthly report (issue 17): quality and the manager, and heads (their own units' figures)
    "reports.monthly_page": rule(QM | {"cs_head", "handler"}),
    # Excel exports (issue 17): anyone with the register starts one; an export is its owner's alone
    "reports.export_start": rule(STAFF),
    "reports.export_list": rule(STAFF),
    "reports.export_page": rule({"receiver"}, outsiders=STAFF - {"receiver"}, job_id="export"),
    "reports.export_download": rule({"receiver"}, outsiders=STAFF - {"receiver"}, job_id="export"),
    "reports.export_again": rule({"receiver"}, outsiders=STAFF - {"receiver"}, job_id="export"),
    # administration
    "admin.users": rule(ADMIN),
    "admin.new_user": rule(ADMIN),
    "admin.user": rule(ADMIN, user_id="clerk"),
    "admin.edit_user": rule(ADMIN, user_id="clerk"),
    "admin.reset_password": rule(ADMIN, user_id="clerk"),
    "admin.user_status": rule(ADMIN, user_id="clerk", action="unlock"),
    "admin.audit_log": rule(ADMIN),
    "admin.units": rule(ADMIN),
    "admin.unit": rule(ADMIN, unit_id="store"),
    "admin.add_unit": rule(ADMIN),
    "admin.rename_unit": rule(ADMIN, unit_id="store"),
    "admin.move_unit": rule(ADMIN, unit_id="store"),
    "admin.unit_status": rule(ADMIN, unit_id="store", action="deactivate"),
    "admin.unit_robot": rule(ADMIN, unit_id="store"),
    "admin.unit_robot_test": rule(ADMIN, unit_id="store"),
    "admin.categories_page": rule(ADMIN),
    "admin.add_category": rule(ADMIN),
    "admin.change_category": rule(ADMIN, category_id="category", action="rename"),
    "admin.calendar_page": rule(ADMIN),
    "admin.calendar_import": rule(ADMIN),
    "admin.calendar_override": rule(ADMIN),
    "admin.reminders_page": rule(ADMIN),
    "admin.reminders_preset": rule(ADMIN),
    "admin.reminders_limits": rule(ADMIN),
    "admin.reminders_digests": rule(ADMIN),
    "admin.reminders_halfyear": rule(ADMIN),
    "admin.reminders_smtp": rule(ADMIN),
    "admin.reminders_smtp_test": rule(ADMIN),
    "admin.reminders_retry": rule(ADMIN, outbox_id=1),
    "admin.settings_page": rule(ADMIN),
    "admin.metrics_access": rule(ADMIN),
    "admin.replies_page": rule(ADMIN),
    "admin.new_reply": rule(ADMIN),
    "admin.edit_reply": rule(ADMIN, reply_id="reply"),
    "admin.reply_status": rule(ADMIN, reply_id="reply", action="deactivate"),
    "admin.penalty_rules": rule(ADMIN),
    "admin.portal_page": rule(ADMIN),                         # the customer's side: public pages, SMS (issue 16)
    "admin.portal_public": rule(ADMIN),
    "admin.portal_sms": rule(ADMIN),
    "admin.portal_sms_test": rule(ADMIN),
    "admin.orders_page": rule(ADMIN),                         # monthly order volumes (issue 17)
    "admin.orders_save": rule(ADMIN),
    "admin.orders_template": rule(ADMIN),
    "admin.orders_import_preview": rule(ADMIN),
    "admin.orders_import_confirm": rule(ADMIN),
    # the monthly complaint meeting (issue 17): quality and the manager see all; attendees (handler2,
    # receiver) theirs; an action's owner (handler2) and the attendees see it; only owners report done
    "meetings.index": rule(STAFF),
    "meetings.open_month": rule({"quality"}),
    "meetings.page": rule(QM | {"handler2", "receiver"}, outsiders=OUTSIDERS, meeting_id="meeting"),
    "meetings.minutes": rule(QM | {"handler2", "receiver"}, outsiders=OUTSIDERS, meeting_id="meeting"),
    "meetings.take_step": rule({"handler2", "receiver"}, outsiders=OUTSIDERS, meeting_id="meeting", step="sign"),
    "meetings.action": rule(QM | {"handler2", "receiver"}, outsiders=OUTSIDERS, action_id="action"),
    "meetings.action_step": rule({"handler2"}, outsiders=OUTSIDERS, action_id="action", step="done"),
}


@dataclass
class World:
    app: object
    complaint: int = 0      # 上海徐汇店's, with a photo, investigated by 生产部
    photo: int = 0
    pending: int = 0        # a photo the receiver uploaded for a form not yet sent
    penalised: int = 0      # 嘉兴食品厂/加工一班's, with a published penalty
    report: int = 0         # a half-year summary
    period: str = ""        # its period, as the list page's links give it
    clerk: int = 0          # the receiver's user id
    store: int = 0          # 上海徐汇店
    category: int = 0
    reply: int = 0          # a reply template for all categories
    export: int = 0         # the receiver's Excel export of the register, written
    meeting: int = 0        # November's meeting: handler2 and the receiver attend
    action: int = 0         # an action it decided, owned by handler2
    clients: dict = field(default_factory=dict)


def jpeg():
    buf = io.BytesIO()
    Image.new("RGB", (40, 30)).save(buf, "JPEG")
    return buf.getvalue()


@pytest.fixture(scope="module")
def world(module_app):
    from pathlib import Path
    w = World(module_app)
    with module_app.app_context():
        s, now, root = db.session, utcnow(), Path(UPLOAD_DIR)
        clerk = user(s, "receiver")
        attachments.store(s, root, clerk, io.BytesIO(jpeg()), "照片.jpg", "f" * 32, now=now)
        c = make_complaint(s, "investigating", token="f" * 32)
        w.complaint, w.photo = c.id, c.attachments[0].id
        w.pending = attachments.store(s, root, clerk, io.BytesIO(jpeg()), "待交.jpg", "e" * 32, now=now).id
        team = unit(s, "嘉兴食品厂/加工一班")
        p = make_complaint(s, "executing", severity="serious", extra={"complained_unit_id": team.id},
                           who={"propose": "prod_head"})
        act(s, "quality", p, "attribute", kind="team", unit_id=team.id)
        pen = penalties.act(s, user(s, "quality"), p, "propose", version=None, now=now)
        penalties.act(s, user(s, "manager"), p, "approve", version=pen.version, now=now)   # serious: published
        w.penalised = p.id
        period = halfyear.last_period(now.astimezone(company_tz()).date())
        w.report, w.period = halfyear.generate(s, *period, now)[0].id, "/".join(d.isoformat() for d in period)
        w.clerk, w.store = clerk.id, unit(s, "上海徐汇店").id
        w.category = s.scalar(select(Category.id).where(Category.name == "异物"))
        w.reply = replies.add(s, user(s, "admin"), title="致歉", body="{顾客姓名}您好", category_id=None, now=now).id
        w.export = exports.create(s, clerk, "register", {}, now).id
        from domain import meetings
        from datetime import date, timedelta
        q = user(s, "quality")
        m, _new = meetings.open_meeting(s, q, "2026-11", now=now)
        meetings.act(s, q, m, "details", meetings.STEPS["details"].fields(
            title="专题会", held_on=date(2026, 11, 30), attendees=(user(s, "handler2").id, clerk.id)), version=m.version, now=now)
        item = meetings.act(s, q, m, "add_item", meetings.STEPS["add_item"].fields(title="门店卫生"), version=m.version, now=now)
        w.meeting = m.id
        w.action = meetings.act(s, q, m, "add_action", meetings.STEPS["add_action"].fields(
            item_id=item.id, text="整改", owner_user_id=user(s, "handler2").id,
            due=now.date() + timedelta(days=10)), version=m.version, now=now).id
        s.commit()
        exports.run(s, w.export, root / exports.FOLDER, clock=utcnow)
        s.commit()
        for name in (None, *PROBES):
            web = Web(module_app.test_client())
            if name:
                assert web.login(name).status_code == 303, name
            w.clients[name] = web
    return w


@pytest.fixture
def ctx(world):
    with world.app.app_context():
        yield world


def endpoints(app):
    """Endpoint → (its rules' methods, the first rule)."""
    found = {}
    for r in app.url_map.iter_rules():
        methods, _first = found.get(r.endpoint, (set(), r))
        found[r.endpoint] = (methods | (r.methods - {"HEAD", "OPTIONS"}), _first)
    return found


# The URL map as the app builds it, read once to choose the checks (no database is touched).
WITH_GET = {e for e, (methods, _r) in endpoints(create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "-",
                                                             "REDIS_URL": NO_REDIS})).items() if "GET" in methods}


def test_every_route_has_an_access_rule(module_app):
    routes = endpoints(module_app)
    missing = sorted(set(routes) - set(ACCESS))
    assert not missing, (f"no access rule for {', '.join(missing)}: add who may use each to ACCESS in "
                         f"tests/web/test_access.py")
    stale = sorted(set(ACCESS) - set(routes))
    assert not stale, f"ACCESS has rules for routes that are gone: {', '.join(stale)}"


def url(w, endpoint, user_name):
    values = {}
    for name, value in ACCESS[endpoint].args.items():
        if isinstance(value, dict):               # by user (ACTION_FOR)
            value = value.get(user_name, "withdraw")
        elif isinstance(value, str) and hasattr(w, value):
            value = getattr(w, value)
        values[name] = value
    with w.app.test_request_context():
        return url_for(endpoint, **values)


# Where the app answers otherwise than the rule (reported; xfail(strict) so that a fix is noticed).
GAPS: dict = {}


def cases(check, applies, get_only=False):
    """The endpoints a check applies to, as parameters (a known gap: xfail)."""
    return [pytest.param(e, marks=pytest.mark.xfail(strict=True, reason=GAPS[e, check])) if (e, check) in GAPS
            else e for e in sorted(ACCESS) if applies(ACCESS[e]) and (not get_only or e in WITH_GET)]


def call(w, endpoint, name, htmx=False):
    """The endpoint as `name` (None: anonymous) sees it: GET when it has one, else an empty POST."""
    web, path = w.clients[name], url(w, endpoint, name)
    methods, _rule = endpoints(w.app)[endpoint]
    return web.get(path, htmx=htmx) if "GET" in methods else web.post(path, {}, htmx=htmx)


def present(w, endpoint):
    if endpoint not in endpoints(w.app):
        pytest.skip(f"{endpoint} is not in the URL map (test_every_route_has_an_access_rule says so)")


@pytest.mark.parametrize("endpoint", cases("anonymous", lambda r: r.who is not PUBLIC))
def test_anonymous_is_sent_to_the_login_page(ctx, endpoint):
    present(ctx, endpoint)
    page = call(ctx, endpoint, None)
    assert page.status_code == 302 and page.headers["Location"].startswith("/login?next="), page.status_code
    fragment = call(ctx, endpoint, None, htmx=True)
    assert fragment.status_code == 401 and fragment.headers["HX-Redirect"].startswith("/login"), fragment.status_code


@pytest.mark.parametrize("endpoint", cases("role", lambda r: isinstance(r.who, frozenset)))
def test_a_role_it_is_not_for_gets_403(ctx, endpoint):
    present(ctx, endpoint)
    r = ACCESS[endpoint]
    got = {name: call(ctx, endpoint, name).status_code for name in PROBES
           if name not in r.who and name not in r.outsiders}
    assert got == {name: 403 for name in got}


@pytest.mark.parametrize("endpoint", cases("scope", lambda r: r.outsiders))
def test_an_object_outside_ones_scope_is_404(ctx, endpoint):
    present(ctx, endpoint)
    got = {name: call(ctx, endpoint, name).status_code for name in ACCESS[endpoint].outsiders}
    assert got == {name: 404 for name in got}


# POST-only routes: the refusals above are all (they write nothing; an accepted POST would).
@pytest.mark.parametrize("endpoint", cases("allowed", lambda r: True, get_only=True))
def test_those_it_is_for_get_it(ctx, endpoint):
    present(ctx, endpoint)
    r = ACCESS[endpoint]
    names = [None, *PROBES] if r.who is PUBLIC else PROBES if r.who is LOGGED_IN else sorted(r.who)
    ok = r.ok if isinstance(r.ok, dict) else {"*": r.ok}
    got = {name: call(ctx, endpoint, name).status_code for name in names}
    assert got == {name: ok.get(name, ok["*"]) for name in names}


def test_forbidden_page_is_friendly_and_audited(ctx):
    resp = ctx.clients["receiver"].get("/admin/users")
    assert resp.status_code == 403 and "没有权限" in resp.get_data(as_text=True)
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.kind == audit.PERMISSION_DENIED)
                               .order_by(AuditEvent.id.desc())).first()
    assert event.target == "path:/admin/users" and event.actor.username == "receiver"


def test_htmx_403_answers_with_a_toast_not_a_page(ctx):
    resp = ctx.clients["receiver"].get("/admin/users", htmx=True)
    assert resp.status_code == 403 and resp.headers["HX-Reswap"] == "none"
    assert "\\u" in resp.headers["HX-Trigger"]  # Chinese is ASCII-escaped in the header


def test_unknown_object_is_a_friendly_404(ctx):
    for path in ("/admin/users/99999", "/admin/units/99999", "/nope"):
        resp = ctx.clients["admin"].get(path)
        assert resp.status_code == 404 and "找不到页面" in resp.get_data(as_text=True)
