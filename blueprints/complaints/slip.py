"""The walk-in customer's slip (SPEC §7): printed at the counter after intake, on an 80 mm receipt
printer or on A4 — the company, the number, where and when it was received, the date the customer
can expect an answer, and a QR code of the progress link (/track/<number>/<code>) with the link
and the lookup printed under it. Nothing personal: the slip is handed over and may be lost."""
from flask import current_app, request
from flask_babel import gettext as _
from markupsafe import Markup

from blueprints._access import complaint_or_404
from blueprints._render import render
from blueprints.complaints import bp
from domain.portal import links
from domain.portal.config import portal_config
from domain.portal.view import KIND_WORDS, expectation
from models import db

SIZES = ("80", "a4")


def base_url() -> str:
    return current_app.config.get("BASE_URL", "").rstrip("/")


def follow_url(complaint) -> str:
    """The full progress link of `complaint`, as its QR code holds it."""
    return base_url() + links.follow_path(current_app.config["SECRET_KEY"], complaint)


def qr_svg(url: str) -> Markup:
    """The QR code of `url` as inline SVG (error correction M: a receipt gets creased), drawn in
    module units (viewBox) so that the print CSS sizes it."""
    import segno   # only this page draws QR codes: not loaded at start-up
    return Markup(segno.make(url, error="m").svg_inline(scale=1, border=4, omitsize=True, svgclass="qr",
                                                        lineclass="qr-dark"))


@bp.route("/<id:complaint_id>/slip")
def slip(complaint_id):
    complaint = complaint_or_404(complaint_id)
    size = request.args.get("size", "80")
    size = size if size in SIZES else "80"
    config = portal_config(db.session)
    label, expect_at = expectation(db.session, complaint)
    url = follow_url(complaint)
    company = config.company_name or _("客户服务中心")      # as the customer's messages say without a name
    return render("complaints/slip.html", complaint=complaint, size=size, kind=KIND_WORDS.get(complaint.type),
                  company=company, expect_label=label, expect_at=expect_at, url=url,
                  qr=qr_svg(url) if config.enabled else None,     # the pages are off: no link to a closed door
                  track_url=base_url() + "/track", hotline=config.hotline)
