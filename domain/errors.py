"""Domain errors. Messages are Chinese msgids marked with N_ so that Babel extracts them;
views translate them with `_(err.message, **err.params)` in the user's language."""


def N_(message: str) -> str:
    """Mark a string for translation without translating it here (no Flask in domain/)."""
    return message


class DomainError(Exception):
    def __init__(self, message: str, field: str | None = None, **params):
        super().__init__(message % params if params else message)
        self.message = message
        self.field = field
        self.params = params


class NotAllowed(DomainError):
    """The actor may not do this (role, scope or a guard)."""


class InvalidInput(DomainError):
    """The input breaks a business rule (duplicate name, password policy …)."""


class InvalidInputs(InvalidInput):
    """Several problems at once (a form with more than one bad field); the first is the message."""

    def __init__(self, problems: list[InvalidInput]):
        first = problems[0]
        super().__init__(first.message, first.field, **first.params)
        self.problems = problems


class Problems(list):
    """The InvalidInput of several checks, collected so that a form shows them all at once."""

    def check(self, fn, *args, **kwargs):
        """Run one check; remember its complaint and go on (None in place of its value)."""
        try:
            return fn(*args, **kwargs)
        except InvalidInput as err:
            self.append(err)
            return None


class LoginRefused(DomainError):
    """Login refused; `reason` is one of bad_credentials, locked, inactive."""

    def __init__(self, message: str, reason: str, **params):
        super().__init__(message, **params)
        self.reason = reason


STALE = N_("在您填写期间，有人修改了这条投诉。请看下面的最新情况后再操作，您的操作没有保存。")


class Stale(DomainError):
    """The record changed after the form was loaded (optimistic lock). `events` are the changes
    since, when the record keeps a timeline (complaints); the screens show them."""

    def __init__(self, events=(), message: str = STALE):
        super().__init__(message)
        self.events = list(events)


CONFLICT_MESSAGE = N_("在您操作的同时，有人已经处理了这条投诉。请刷新后查看最新情况，您的操作没有保存。")


def conflict_message(err) -> str | None:
    """CONFLICT_MESSAGE when `err` is a lost race on the same record (optimistic lock at commit,
    or SQLite's writer lock), else None."""
    from sqlalchemy.exc import OperationalError
    from sqlalchemy.orm.exc import StaleDataError
    if isinstance(err, StaleDataError):
        return CONFLICT_MESSAGE
    if isinstance(err, OperationalError) and "locked" in str(err).lower():
        return CONFLICT_MESSAGE
    return None
