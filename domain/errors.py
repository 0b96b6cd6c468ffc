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


class LoginRefused(DomainError):
    """Login refused; `reason` is one of bad_credentials, locked, inactive."""

    def __init__(self, message: str, reason: str, **params):
        super().__init__(message, **params)
        self.reason = reason
