"""Files after intake (SPEC §2 Attachments): the handler's evidence (test reports, 8D, receipts),
quality's verification evidence, the customer's later additions, the answer's letter — at any
stage, by whoever acts on the complaint, each an event on the timeline.

How files travel with an action's form: the form carries a token (`upload_token`); the screen
keeps the posted files pending under it with `domain.attachments.store` (the intake's checks:
content, size, count) and commits them before it runs the action, so a form sent back with an
error loses no file; the action's `apply` claims them (`claim_uploads`). An action's form carries
files when its fields have an `upload_token` (`carries_files`): `attach` (files alone, with a
note) and the answer (its letter to the customer)."""
from __future__ import annotations

import dataclasses
import re
import uuid
from dataclasses import dataclass

from domain import attachments
from domain.errors import InvalidInput, N_
from domain.roles import Role
from domain.stages import Stage
from domain.text import checked
from domain.workflow.core import ALL_TYPES, DISPATCHERS, Action, Fields, Outcome, dispatcher, handles, receiver_side, register

TOKEN_RE = re.compile(r"^[0-9a-f]{32}$")


def new_token() -> str:
    return uuid.uuid4().hex


def valid_token(token) -> bool:
    return isinstance(token, str) and bool(TOKEN_RE.match(token))


def carries_files(action) -> bool:
    """Whether `action`'s form takes files (its fields have an upload token)."""
    return any(f.name == "upload_token" for f in dataclasses.fields(action.fields))


def claim_uploads(session, actor, complaint, token) -> list[str]:
    """The names of the files `actor` uploaded with the form `token`, now the complaint's (noting
    the stage they were added at). Refuses when they would pass the complaint's limit."""
    if not valid_token(token):
        return []
    rows = attachments.claim_later(session, token, actor, complaint)
    if rows and attachments.count(session, complaint.id) > attachments.MAX_TOTAL:
        raise InvalidInput(N_("这条投诉的附件已达上限（%(max)d 个），请先删减要上传的文件。"), field="files",
                           max=attachments.MAX_TOTAL)
    return [row.name for row in rows]


def listing(names: list[str], note: str | None = None) -> str | None:
    """The event's comment: the files' names (the timeline shows who, when and what), then the note."""
    return "\n".join(part for part in ("、".join(names), note) if part) or None


@dataclass(frozen=True)
class AttachFields(Fields):
    upload_token: str | None = None
    note: str | None = None


@register
class Attach(Action):
    name, label, who = "attach", N_("添加附件"), N_("责任部门/首问负责人/品管")
    sources, targets, types = frozenset(Stage), (), ALL_TYPES
    roles = DISPATCHERS | {Role.HANDLER, Role.RECEIVER}
    fields, on_the_road, button = AttachFields, False, "side"

    def guard(self, session, actor, c):
        if not (dispatcher(actor) or handles(session, actor, c) or receiver_side(session, actor, c)):
            return N_("只有责任部门、首问负责人、本店受理人或品管可以添加附件。")
        return None

    def apply(self, session, actor, c, f, now):
        note = checked(f.note, "note", 500)
        names = claim_uploads(session, actor, c, f.upload_token)
        if not names:
            raise InvalidInput(N_("请选择要添加的文件（照片、PDF 或录音）。"), field="files")
        return Outcome(None, {"files": names}, listing(names, note))

    def clock_event(self, c):
        return None      # evidence is not a step any clock waits for
