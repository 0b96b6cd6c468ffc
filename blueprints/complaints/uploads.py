"""What the record page's action forms carry besides their fields: files (an action whose fields
have an upload token — domain/workflow/files.py) and the reply templates offered for the text to
the customer (domain/replies.py), with the small request that fills one in."""
from functools import partial
from pathlib import Path

from flask import current_app, request
from flask_babel import gettext as _
from flask_login import current_user

from blueprints._access import complaint_or_404
from blueprints._render import fragment
from blueprints.complaints import bp
from domain import attachments, replies
from domain.errors import InvalidInput
from domain.money import parse_amount
from domain.text import small_int
from domain.workflow import files
from models import db, utcnow


def form_extras(complaint, a, posted: bool) -> dict:
    """For action `a`'s form: the reply templates (read only when the form shows the picker) and,
    when it carries files, its upload token and the files already kept with it."""
    extras = {"reply_templates": partial(replies.for_complaint, db.session, complaint)}
    if files.carries_files(a):
        token = request.form.get("upload_token") if posted else None
        token = token if files.valid_token(token) else files.new_token()
        extras.update(uploads=True, upload_token=token, max_files=attachments.MAX_FILES,
                      pending=attachments.pending(db.session, token, current_user))
    return extras


def keep_posted(complaint, a) -> dict:
    """Keep the files posted with action `a`'s form pending under its token, with the intake's
    checks, and commit them: a form sent back with an error keeps what was sent, and the action
    claims them. The files' errors by field ({} when every file was kept)."""
    posted = [f for f in request.files.getlist("files") if f.filename]   # a field left empty sends ""
    if not files.carries_files(a) or not posted:
        return {}
    token = request.form.get("upload_token")
    if not files.valid_token(token):
        return {"files": [_("页面已过期，请刷新后再选择文件。")]}
    pending = attachments.pending(db.session, token, current_user)
    on_record, now, errors = attachments.count(db.session, complaint.id), utcnow(), []
    for upload in posted:
        try:
            kept = attachments.store(db.session, Path(current_app.config["UPLOAD_DIR"]), current_user, upload.stream,
                                     upload.filename, token, now=now, already=len(pending), on_record=on_record,
                                     field="files")
        except InvalidInput as err:
            errors.append(_(err.message, **err.params))
        else:
            if kept is not None:
                pending.append(kept)
    db.session.commit()
    return {"files": errors} if errors else {}


@bp.route("/<id:complaint_id>/reply/<any(text, note):field>")
def reply_text(complaint_id, field):
    """The reply template picked on the form (?reply_template=<id>), filled in for this complaint: the form's
    text box to swap in (HTMX). Nothing picked, or a template not offered here: 204, the text stays."""
    complaint = complaint_or_404(complaint_id)
    template = replies.offered(db.session, complaint, small_int(request.args.get("reply_template")))
    if template is None:
        return "", 204
    try:
        amount = parse_amount(request.args.get("amount"), "amount")   # the proposal being typed
    except InvalidInput:
        amount = None
    return fragment("complaints/actions/_reply_pick.html", reply_field=field,
                    filled=replies.fill(template.body, replies.values_for(complaint, amount)))
