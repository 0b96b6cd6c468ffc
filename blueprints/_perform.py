"""One way to run a domain step from the web: the workflow's actions, the one-tap approval and
penalty cards, the penalty steps.

`perform(step, respond)` runs `step()` in the request's transaction and commits; any refusal rolls
back, nothing half-done is kept. `respond(result)` turns the Result — done, stale, refused, a lost
race — into the response the screen needs (a redirect, the form again with its errors, a card)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from flask_babel import gettext as _

from domain.errors import DomainError, NotAllowed, Stale, conflict_message
from models import db


@dataclass(frozen=True)
class Result:
    status: int                          # 200 done · 403 not allowed · 409 stale or lost race · 422 bad input
    value: Any = None
    errors: dict = field(default_factory=dict)   # field → [messages]; "" for the whole form
    message: str | None = None           # the first message, translated
    stale: list | None = None            # events since the form was loaded (stale version)
    conflict: bool = False               # another change won at commit

    @property
    def ok(self) -> bool:
        return self.status == 200

    @property
    def taken_by_someone_else(self) -> bool:
        return self.status == 409


def field_errors(err: DomainError) -> dict:
    errors: dict = {}
    for problem in getattr(err, "problems", [err]):
        errors.setdefault(problem.field or "", []).append(_(problem.message, **problem.params))
    return errors


def perform(step: Callable[[], Any], respond: Callable[[Result], Any]):
    try:
        value = step()
        db.session.commit()
    except Stale as err:
        db.session.rollback()
        return respond(Result(409, message=_(err.message), stale=err.events))
    except DomainError as err:
        db.session.rollback()
        status = 403 if isinstance(err, NotAllowed) else 422
        return respond(Result(status, errors=field_errors(err), message=_(err.message, **err.params)))
    except Exception as err:  # a lost race at commit: the other change won
        db.session.rollback()
        message = conflict_message(err)
        if message is None:
            raise
        return respond(Result(409, message=_(message), conflict=True))
    return respond(Result(200, value=value))
