"""The registry (every role's scoped list with filters and search), the record page with
masked personal data and a logged reveal, the A4 print view and the attachment route."""
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

from flask import abort, current_app, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select

from blueprints._web import MAX_ID, client_ip, fragment, render
from blueprints.complaints import bp
from domain import attachments, privacy, registry
from domain.intake import CHANNEL_LABELS, DEMAND_LABELS, TYPE_LABELS, URGENCY_LABELS
from domain.orgtree import tree
from domain.scoping import complaint_or_none, covered_unit_ids, sees_everything
from domain.severity import REASONS, SEVERITY_LABELS, Severity
from domain.stages import STAGE_LABELS, Stage
from models import db, utcnow
from models.attachment import Attachment
from models.complaint import Category, Complaint
from models.org import OrgUnit


def _tz() -> ZoneInfo:
    return ZoneInfo(current_app.config["COMPANY_TZ"])


def _date_arg(name):
    value = request.args.get(name, "").strip()
    try:
        day = date.fromisoformat(value) if value else None
    except ValueError:
        return None, True
    if day and not date(2000, 1, 1) <= day <= date(2100, 1, 1):
        return None, True
    return day, False


def _int_arg(name):
    value = request.args.get(name, "").strip()
    return int(value) if value.isdigit() and 0 < int(value) <= MAX_ID else None


def _unit_options():
    """Receiving units the user may filter by: what they cover, in tree order."""
    covered = covered_unit_ids(db.session, current_user)
    pairs = []

    def walk(nodes, depth):
        for node in nodes:
            if covered is None or node.unit.id in covered:
                pairs.append((node.unit.id, "　" * depth + node.unit.name))
            walk(node.children, depth + (1 if covered is None or node.unit.id in covered else 0))
    walk(tree(db.session), 0)
    return pairs


def _category_options():
    tops = db.session.scalars(select(Category).where(Category.parent_id.is_(None)).order_by(Category.sort, Category.id))
    pairs = []
    for top in tops:
        pairs.append((top.id, top.name))
        pairs.extend((c.id, "　" + c.name) for c in top.children)
    return pairs


def _filters():
    date_from, bad_from = _date_arg("from")
    date_to, bad_to = _date_arg("to")
    stage = request.args.get("stage") if request.args.get("stage") in {s.value for s in Stage} else None
    severity = request.args.get("severity") if request.args.get("severity") in {s.value for s in Severity} else None
    f = registry.Filters(q=request.args.get("q", "")[:60], stage=stage, category_id=_int_arg("category"),
                         severity=severity, unit_id=_int_arg("unit"), date_from=date_from, date_to=date_to,
                         oldest_first=request.args.get("sort") == "old")
    return f, bad_from or bad_to


@bp.route("/")
def index():
    f, bad_date = _filters()
    mine = request.args.get("mine") == "1"
    if mine:
        f.first_responder_id = current_user.id
    page = registry.page(db.session, current_user, f, _tz(), request.args.get("after"))
    args = {k: v for k, v in request.args.items() if k != "after" and v}
    next_url = url_for("complaints.index", **args, after=page.next_cursor) if page.next_cursor else None
    units = {u.id: u.name for u in db.session.scalars(select(OrgUnit))}
    categories = {c.id: c.name for c in db.session.scalars(select(Category))}
    return render("complaints/index.html", "complaints/_rows.html", page=page, f=f, mine=mine, args=args,
                  next_url=next_url, bad_date=bad_date, units=units, categories=categories,
                  unit_options=_unit_options(), category_options=_category_options(),
                  first_page=not request.args.get("after"),
                  stage_options=list(STAGE_LABELS.items()), severity_options=list(SEVERITY_LABELS.items()))


@bp.route("/count")
def count():
    f, _bad = _filters()
    if request.args.get("mine") == "1":
        f.first_responder_id = current_user.id
    n, more = registry.count(db.session, current_user, f, _tz())
    return fragment("complaints/_count.html", n=n, more=more)


def _complaint_or_404(complaint_id) -> Complaint:
    complaint = complaint_or_none(db.session, current_user, complaint_id)
    if complaint is None:
        abort(404)
    return complaint


def _linked(complaint):
    """Links to other complaints, only those the user may see."""
    out = []
    for label, ident in ((_("二次投诉，前一次是"), complaint.repeat_of_id), (_("重复登记，原投诉是"), complaint.duplicate_of_id)):
        if ident:
            other = complaint_or_none(db.session, current_user, ident)
            if other is not None:
                out.append((label, other))
    later = []
    for column in (Complaint.repeat_of_id, Complaint.duplicate_of_id):  # two index lookups, not an OR scan
        later += db.session.scalars(registry.visible_complaints(db.session, current_user)
                                    .where(column == complaint.id).limit(20)).all()
    later.sort(key=lambda c: (c.created_at, c.id))
    out.extend((_("之后的二次/重复投诉"), c) for c in later)
    return out


def _record_context(complaint, revealed=False):
    needs = privacy.needs_personal_data(db.session, current_user, complaint)
    threshold_reasons = [_(REASONS[r], threshold="") if r != "amount" else _("涉及金额达到重大投诉标准")
                         for r in complaint.severity_reasons or []]
    return dict(complaint=complaint, personal=privacy.shown(complaint, needs or revealed), can_reveal=not (needs or revealed),
                reasons=threshold_reasons, links=_linked(complaint), reveal_form=FlaskForm(),
                labels=dict(type=TYPE_LABELS, channel=CHANNEL_LABELS, demand=DEMAND_LABELS, urgency=URGENCY_LABELS))


@bp.route("/<id:complaint_id>")
def record(complaint_id):
    return render("complaints/record.html", **_record_context(_complaint_or_404(complaint_id)))


@bp.route("/<id:complaint_id>/reveal", methods=["POST"])
def reveal(complaint_id):
    complaint = _complaint_or_404(complaint_id)
    privacy.reveal(db.session, current_user, complaint, ip=client_ip())
    db.session.commit()
    return render("complaints/record.html", "complaints/_customer.html",
                  **_record_context(complaint, revealed=True))


@bp.route("/<id:complaint_id>/print")
def print_view(complaint_id):
    complaint = _complaint_or_404(complaint_id)
    return render("complaints/print.html", now=utcnow(), **_record_context(complaint))


def _attachment_or_404(complaint_id, attachment_id) -> Attachment:
    complaint = _complaint_or_404(complaint_id)
    row = db.session.get(Attachment, attachment_id)
    if row is None or row.complaint_id != complaint.id:
        abort(404)
    return row


@bp.route("/<id:complaint_id>/files/<id:attachment_id>")
@bp.route("/<id:complaint_id>/files/<id:attachment_id>/<any(display, thumb):variant>")
def attachment(complaint_id, attachment_id, variant="original"):
    row = _attachment_or_404(complaint_id, attachment_id)
    path = attachments.file_path(Path(current_app.config["UPLOAD_DIR"]), row, variant)
    if not path.is_file():
        abort(404)
    mime = "image/jpeg" if variant != "original" and row.kind == "image" else row.mime
    inline = row.kind == "image"
    resp = send_file(path, mimetype=mime, as_attachment=not inline, download_name=row.name, max_age=3600,
                     conditional=True)
    resp.headers["Cache-Control"] = "private, max-age=3600"
    resp.headers["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; sandbox"
    return resp
