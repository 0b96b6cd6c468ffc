from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from domain import accounts, audit
from domain.accounts import LOCK_MINUTES, MAX_FAILED_LOGINS, password_problems
from domain.errors import InvalidInput, LoginRefused, NotAllowed
from models import utcnow
from models.audit import AuditEvent
from models.org import OrgUnit
from models.user import LoginSession, User


def user(session, username):
    return session.scalar(select(User).where(User.username == username))


def kinds(session):
    return [e.kind for e in session.scalars(select(AuditEvent).order_by(AuditEvent.id))]


@pytest.mark.parametrize("password,ok", [
    ("demo12345", True),
    ("Kesu2026store", True),
    ("short1", False),          # too short
    ("onlyletters", False),     # no digit
    ("1234567890", False),      # no letter, common
    ("password123", False),     # common
    ("zhangwei2024", False),    # contains the username
])
def test_password_policy(password, ok):
    assert (password_problems(password, "zhangwei") == []) is ok


def test_passwords_are_hashed_with_argon2(session, company):
    h = user(session, "manager").password_hash
    assert h.startswith("$argon2id$") and "demo12345" not in h


def test_good_login_resets_failures_and_is_audited(session, company):
    now = utcnow()
    u = user(session, "manager")
    u.failed_logins = 3
    got = accounts.authenticate(session, "Manager ", "demo12345", now=now, ip="10.0.0.1")
    assert got.id == u.id and u.failed_logins == 0 and u.last_login_at == now
    assert kinds(session)[-1] == audit.LOGIN


def test_unknown_user_and_wrong_password_look_the_same(session, company):
    now = utcnow()
    with pytest.raises(LoginRefused) as unknown:
        accounts.authenticate(session, "nobody", "demo12345", now=now, ip=None)
    with pytest.raises(LoginRefused) as wrong:
        accounts.authenticate(session, "manager", "wrong-password1", now=now, ip=None)
    assert unknown.value.reason == wrong.value.reason == "bad_credentials"
    assert kinds(session)[-2:] == [audit.LOGIN_FAILED, audit.LOGIN_FAILED]
    # Issue 13: a locked or deactivated account gets the same words too (only the audit trail differs).
    user(session, "handler").locked_until = now + timedelta(minutes=5)
    user(session, "cs1").active = False
    answers = {unknown.value.message, wrong.value.message}
    for username, password in (("handler", "demo12345"), ("handler", "wrong-password1"), ("cs1", "demo12345")):
        with pytest.raises(LoginRefused) as other:
            accounts.authenticate(session, username, password, now=now, ip=None)
        answers.add(other.value.message)
    assert answers == {accounts.LOGIN_REFUSED}


def test_every_refusal_costs_one_password_check(session, company, monkeypatch):
    """Timing must not tell an unknown or locked account from a wrong password: each refusal runs
    one argon2 verification with the production setting (~70 ms), which dwarfs the queries."""
    import time

    from argon2 import PasswordHasher
    slow = PasswordHasher(time_cost=5, memory_cost=7168, parallelism=1)   # as in domain/accounts.py
    monkeypatch.setattr(accounts, "_hasher", slow)
    monkeypatch.setattr(accounts, "_DUMMY_HASH", None)
    now = utcnow()
    for name in ("manager", "handler", "cs1"):
        user(session, name).password_hash = slow.hash("demo12345")
    user(session, "handler").locked_until = now + timedelta(minutes=5)
    user(session, "cs1").active = False

    def cost(username, password):
        best = None
        for _ in range(3):
            user(session, "manager").failed_logins = 0
            start = time.perf_counter()
            with pytest.raises(LoginRefused):
                accounts.authenticate(session, username, password, now=now, ip=None)
            took = time.perf_counter() - start
            best = took if best is None else min(best, took)
        return best

    cost("nobody", "warm-up-1")                              # the dummy hash is made on first use
    wrong = cost("manager", "wrong-password1")
    for username, password in (("nobody", "demo12345"), ("handler", "wrong-password1"),
                               ("handler", "demo12345"), ("cs1", "demo12345")):
        assert cost(username, password) > wrong / 2, username


def test_five_failures_lock_for_fifteen_minutes_across_sessions(session, company):
    start = utcnow()
    for i in range(MAX_FAILED_LOGINS):
        # A fresh session each time, as separate web processes would have.
        with Session(session.get_bind()) as fresh:
            with pytest.raises(LoginRefused) as err:
                accounts.authenticate(fresh, "handler", "bad-password9", now=start + timedelta(seconds=i), ip="1.2.3.4")
            fresh.commit()
    assert err.value.reason == "locked"
    u = user(session, "handler")
    assert u.locked_until == start + timedelta(seconds=4, minutes=LOCK_MINUTES)
    # Even the right password is refused while locked …
    with pytest.raises(LoginRefused) as err:
        accounts.authenticate(session, "handler", "demo12345", now=start + timedelta(minutes=10), ip=None)
    assert err.value.reason == "locked" and err.value.params["minutes"] == 6
    # … and accepted once the 15 minutes are over.
    got = accounts.authenticate(session, "handler", "demo12345", now=start + timedelta(minutes=16), ip=None)
    assert got.locked_until is None
    assert kinds(session).count(audit.LOCKOUT) == 1


def test_inactive_user_is_refused_only_after_the_right_password(session, company):
    u = user(session, "cs1")
    u.active = False
    with pytest.raises(LoginRefused) as err:
        accounts.authenticate(session, "cs1", "nope-nope1", now=utcnow(), ip=None)
    assert err.value.reason == "bad_credentials"
    with pytest.raises(LoginRefused) as err:
        accounts.authenticate(session, "cs1", "demo12345", now=utcnow(), ip=None)
    assert err.value.reason == "inactive"


DAY = timedelta(days=1)


def log_in(session, u, now=None, lifetime=14 * DAY):
    """A login as the login view makes it; returns the cookie value."""
    accounts.start_session(session, u, now=now or utcnow(), lifetime=lifetime)
    return u.get_id()


def load(session, cookie, now=None):
    return accounts.load_session_user(session, cookie, now=now or utcnow())


def test_session_version_ends_old_sessions(session, company):
    u = user(session, "receiver")
    cookie = log_in(session, u)
    assert load(session, cookie) is u
    admin = user(session, "admin")
    accounts.reset_password(session, admin, u, "Temp2026pass", now=utcnow())
    assert load(session, cookie) is None
    assert load(session, u.get_id()) is u  # the same login with the new version (change_password)
    assert u.must_change_password
    assert load(session, "garbage") is None


def test_logout_ends_one_login_and_leaves_the_others(session, company):
    u = user(session, "cs_head")
    phone = log_in(session, u)
    pc = log_in(session, u)
    assert phone != pc and phone.split(".")[:2] == pc.split(".")[:2]
    assert load(session, phone) is u and u.login_token == phone.split(".")[2]
    accounts.end_session(session, u, now=utcnow())
    assert load(session, phone) is None
    assert load(session, pc) is u


def test_old_forged_and_expired_cookies_are_refused(session, company):
    u, other = user(session, "receiver"), user(session, "receiver2")
    now = utcnow()
    cookie = log_in(session, u, now=now, lifetime=DAY)
    user_id, version, token = cookie.split(".")
    assert load(session, f"{user_id}.{version}") is None                  # before issue 13
    assert load(session, f"{user_id}.{version}.not-a-token") is None
    assert load(session, f"{other.id}.{other.session_version}.{token}") is None  # someone else's login
    assert load(session, cookie, now=now + DAY - timedelta(seconds=1)) is u
    assert load(session, cookie, now=now + DAY) is None


def test_tokens_are_stored_hashed_and_dead_logins_are_removed_at_the_next(session, company):
    u = user(session, "receiver")
    now = utcnow()
    log_in(session, u, now=now - 3 * DAY, lifetime=DAY)        # expired by now
    live = log_in(session, u, now=now - 3 * DAY)
    ended = log_in(session, u, now=now - 3 * DAY)
    accounts.end_session(session, u, now=now - 2 * DAY)
    assert session.scalar(select(func.count()).select_from(LoginSession)) == 3
    assert not session.scalars(select(LoginSession).where(
        LoginSession.token_hash.in_([c.split(".")[2] for c in (ended, live)]))).all()
    log_in(session, u, now=now)
    assert session.scalar(select(func.count()).select_from(LoginSession)) == 2
    assert load(session, live, now=now) is u


def test_create_user_rules(session, company):
    admin = user(session, "admin")
    store = session.scalar(select(OrgUnit).where(OrgUnit.name == "上海浦东店"))
    with pytest.raises(InvalidInput) as err:
        accounts.create_user(session, admin, username="Receiver", display_name="重名", unit=store,
                             roles=["receiver"], password="Strong2026pw", now=utcnow())
    assert err.value.field == "username"
    with pytest.raises(InvalidInput) as err:
        accounts.create_user(session, admin, username="new.clerk", display_name="新店员", unit=store,
                             roles=[], password="Strong2026pw", now=utcnow())
    assert err.value.field == "roles"
    with pytest.raises(InvalidInput) as err:
        accounts.create_user(session, admin, username="new.clerk", display_name="新店员", unit=store,
                             roles=["receiver"], password="weak", now=utcnow())
    assert err.value.field == "password"
    with pytest.raises(InvalidInput) as err:     # the CLI has no form to stop it (models.user: 60)
        accounts.create_user(session, admin, username="new.clerk", display_name="名" * 61, unit=store,
                             roles=["receiver"], password="Strong2026pw", now=utcnow())
    assert (err.value.field, err.value.message, err.value.params) == ("display_name", "姓名最多 %(max)d 个字。",
                                                                      {"max": 60})
    with pytest.raises(InvalidInput):
        accounts.create_user(session, admin, username="<b>x</b>", display_name="x", unit=store,
                             roles=["receiver"], password="Strong2026pw", now=utcnow())
    before = session.scalar(select(func.count()).select_from(User))
    u = accounts.create_user(session, admin, username="new.clerk", display_name="新店员", unit=store,
                             roles=["receiver", "handler"], password="Strong2026pw", now=utcnow())
    assert u.roles == {"receiver", "handler"} and u.must_change_password
    assert session.scalar(select(func.count()).select_from(User)) == before + 1


def test_last_admin_cannot_be_removed_or_deactivated(session, company):
    admin = user(session, "admin")
    with pytest.raises(NotAllowed):
        accounts.set_active(session, admin, admin, False, now=utcnow())
    with pytest.raises(NotAllowed):
        accounts.update_user(session, admin, admin, display_name=admin.display_name, unit=admin.org_unit,
                             roles=["handler"], is_head=False, locale="zh_CN", now=utcnow())
    assert "admin" in admin.roles


def test_deactivation_bumps_session_version(session, company):
    admin, clerk = user(session, "admin"), user(session, "pd_clerk")
    cookie = log_in(session, clerk)
    accounts.set_active(session, admin, clerk, False, now=utcnow())
    assert load(session, cookie) is None
