"""Accounts: password policy and hashing, login with lockout, user administration.

Lockout (issue 3): 5 failed attempts lock the account for 15 minutes. The counter lives in
the database and is bumped with one UPDATE, so it holds across processes and machines.
"""
from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, or_, select, update

from domain import audit
from domain.errors import InvalidInput, LoginRefused, N_, NotAllowed
from domain.roles import Role
from domain.text import checked
from models.org import OrgUnit
from models.user import LoginSession, User, UserRole

MAX_FAILED_LOGINS = 5
LOCK_MINUTES = 15
PASSWORD_MIN = 8
PASSWORD_MAX = 128
DISPLAY_NAME_MAX = 60   # models.user.User.display_name
USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,39}$")
LOCALES = ("zh_CN", "en")
# A few of the passwords people pick first; the policy refuses them outright.
COMMON_PASSWORDS = frozenset({
    "password", "password1", "password123", "12345678", "123456789", "1234567890",
    "11111111", "88888888", "66666666", "qwerty123", "qwertyuiop", "abc12345", "abcd1234",
    "a1234567", "aa123456", "iloveyou", "admin123", "admin1234", "woaini1314", "1qaz2wsx",
    "zxcvbnm123", "passw0rd", "p@ssw0rd", "00000000", "123123123", "987654321",
})

# argon2id with one of OWASP's equivalent minimum settings (7 MiB, 5 passes): the low-memory
# variant, because the web process must stay small (SPEC §10: 200 MB for everything).
_hasher = PasswordHasher(time_cost=5, memory_cost=7168, parallelism=1)


def use_fast_hashing() -> None:
    """For the test suite only: cheap parameters (hashes still verify either way)."""
    global _hasher
    _hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def _verify(user: User, password: str) -> bool:
    try:
        return _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


# A hash to verify against when the user does not exist, so that both cases take as long.
_DUMMY_HASH = None


def _burn_time(password: str) -> None:
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = _hasher.hash("kesu-dummy-password")
    try:
        _hasher.verify(_DUMMY_HASH, password)
    except VerificationError:
        pass


def password_problems(password: str, username: str = "") -> list[str]:
    """The password policy for real users; an empty list means the password is acceptable."""
    problems = []
    if len(password) < PASSWORD_MIN:
        problems.append(N_("密码至少 8 位。"))
    if len(password) > PASSWORD_MAX:
        problems.append(N_("密码最多 128 位。"))
    if not re.search(r"[A-Za-z]", password) or not re.search(r"\d", password):
        problems.append(N_("密码须同时包含字母和数字。"))
    if password.lower() in COMMON_PASSWORDS:
        problems.append(N_("这个密码太常见，请换一个。"))
    if username and username.lower() in password.lower():
        problems.append(N_("密码不能包含用户名。"))
    return problems


def _check_password(password: str, username: str, field: str = "password") -> None:
    problems = password_problems(password, username)
    if problems:
        raise InvalidInput(problems[0], field=field)


# --- login -------------------------------------------------------------------

def find_by_username(session, username: str) -> User | None:
    return session.scalar(select(User).where(User.username == (username or "").strip().lower()))


# Issue 13: an unknown user, a wrong password, a locked and a deactivated account all get this
# one message, so the login page never tells which usernames exist (nor, while an account is
# locked, whether the password was right). It still tells a real user what to do.
LOGIN_REFUSED = N_("用户名或密码错误（连续输错 5 次将锁定 15 分钟）。如果确认输入无误，账号可能已被锁定或停用，"
                   "请稍后再试或联系系统管理员。")


def _refused(reason: str, **params) -> LoginRefused:
    """The one answer to a refused login; `reason` (and `minutes`) are for the audit trail and tests."""
    return LoginRefused(LOGIN_REFUSED, reason=reason, **params)


def authenticate(session, username: str, password: str, *, now: datetime, ip: str | None) -> User:
    """Check a login. Returns the user, or raises LoginRefused; writes the audit events.
    The caller commits (also after a refusal, so that the failure count is kept). Every refusal
    costs one argon2 verification, as a wrong password does, so timing does not tell them apart."""
    user = find_by_username(session, username)
    if user is None:
        _burn_time(password)
        audit.record(session, audit.LOGIN_FAILED, ip=ip, now=now, reason="unknown_user")
        raise _refused("bad_credentials")

    if user.locked_until is not None and user.locked_until > now:
        _verify(user, password)   # the same work as any other attempt; the answer stays "refused"
        audit.record(session, audit.LOGIN_FAILED, actor_id=user.id, ip=ip, now=now, reason="locked")
        minutes = max(1, int((user.locked_until - now).total_seconds() // 60) + 1)
        raise _refused("locked", minutes=minutes)

    if not _verify(user, password):
        failures = session.execute(
            update(User).where(User.id == user.id)
            .values(failed_logins=User.failed_logins + 1)
            .returning(User.failed_logins)
        ).scalar_one()
        audit.record(session, audit.LOGIN_FAILED, actor_id=user.id, ip=ip, now=now,
                     reason="bad_password", failures=failures)
        if failures >= MAX_FAILED_LOGINS:
            session.execute(update(User).where(User.id == user.id)
                            .values(failed_logins=0, locked_until=now + timedelta(minutes=LOCK_MINUTES)))
            audit.record(session, audit.LOCKOUT, actor_id=user.id, ip=ip, now=now, minutes=LOCK_MINUTES)
            session.expire(user)
            raise _refused("locked", minutes=LOCK_MINUTES)
        session.expire(user)
        raise _refused("bad_credentials")

    if not user.active:
        audit.record(session, audit.LOGIN_FAILED, actor_id=user.id, ip=ip, now=now, reason="inactive")
        raise _refused("inactive")

    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    audit.record(session, audit.LOGIN, actor_id=user.id, ip=ip, now=now)
    return user


# --- login sessions (issue 13) ------------------------------------------------
# A cookie names one login: "<user id>.<session_version>.<token>" (User.get_id). It works while
# the user is active, the version is current (password change, reset and deactivation end every
# login) and the token's row is live (logout ends that login only).

def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(session, user: User, *, now: datetime, lifetime: timedelta) -> str:
    """A new login for `user` (one device); returns its token, also kept on `user` for get_id.
    The user's ended and expired logins are removed here, so that the table stays small."""
    session.execute(delete(LoginSession).where(
        LoginSession.user_id == user.id,
        or_(LoginSession.ended_at.is_not(None), LoginSession.expires_at <= now)))
    token = secrets.token_urlsafe(32)
    session.add(LoginSession(token_hash=_token_hash(token), user_id=user.id, created_at=now,
                             expires_at=now + lifetime))
    user.login_token = token
    return token


def load_session_user(session, cookie_id: str, *, now: datetime) -> User | None:
    """Flask-Login's user loader, run on every request: the user and their live login in one
    query by primary keys. Old ("<id>.<version>") and unknown cookies are refused."""
    try:
        user_id, version, token = cookie_id.split(".")
        user_id, version = int(user_id), int(version)
    except (ValueError, AttributeError):
        return None
    user = session.scalar(
        select(User).join(LoginSession, LoginSession.user_id == User.id)
        .where(LoginSession.token_hash == _token_hash(token), User.id == user_id,
               User.session_version == version, User.active.is_(True),
               LoginSession.ended_at.is_(None), LoginSession.expires_at > now))
    if user is not None:
        user.login_token = token
    return user


def end_session(session, user: User, *, now: datetime) -> None:
    """Logout: this login's cookies stop working; the user's other logins go on."""
    if user.login_token:
        session.execute(update(LoginSession)
                        .where(LoginSession.token_hash == _token_hash(user.login_token),
                               LoginSession.ended_at.is_(None))
                        .values(ended_at=now))
        user.login_token = None


def change_password(session, user: User, old: str, new: str, *, now: datetime, ip: str | None = None) -> None:
    if not _verify(user, old):
        raise InvalidInput(N_("当前密码不正确。"), field="old_password")
    if old == new:
        raise InvalidInput(N_("新密码不能与当前密码相同。"), field="new_password")
    _check_password(new, user.username, field="new_password")
    user.password_hash = hash_password(new)
    user.must_change_password = False
    user.session_version += 1
    audit.record(session, audit.PASSWORD_CHANGED, actor_id=user.id, target=f"user:{user.id}", ip=ip, now=now)


# --- administration ----------------------------------------------------------

def _check_unit(unit: OrgUnit | None) -> None:
    if unit is None:
        raise InvalidInput(N_("请选择所属单位。"), field="org_unit_id")
    if not unit.active:
        raise InvalidInput(N_("所选单位已停用。"), field="org_unit_id")


def _check_roles(roles) -> list[str]:
    roles = [Role(r).value for r in roles]
    if not roles:
        raise InvalidInput(N_("请至少选择一个角色。"), field="roles")
    return roles


def _other_active_admins(session, user: User) -> int:
    return session.scalar(
        select(func.count()).select_from(User).join(UserRole)
        .where(UserRole.role == Role.ADMIN, User.active.is_(True), User.id != user.id))


def create_user(session, actor, *, username: str, display_name: str, unit: OrgUnit | None,
                roles, is_head: bool = False, locale: str = "zh_CN", password: str,
                enforce_policy: bool = True, must_change_password: bool = True, email: str | None = None,
                now: datetime) -> User:
    username = (username or "").strip().lower()
    if not USERNAME_RE.match(username):
        raise InvalidInput(N_("用户名须为 2–40 位小写字母、数字、点、下划线或连字符，以字母或数字开头。"),
                           field="username")
    if find_by_username(session, username) is not None:
        raise InvalidInput(N_("用户名“%(username)s”已被使用。"), field="username", username=username)
    display_name = _display_name(display_name)
    _check_unit(unit)
    roles = _check_roles(roles)
    if locale not in LOCALES:
        raise InvalidInput(N_("不支持的语言。"), field="locale")
    email = check_email(email)
    if enforce_policy:
        _check_password(password, username)
    user = User(username=username, display_name=display_name, org_unit=unit, is_head=is_head, email=email,
                locale=locale, active=True, password_hash=hash_password(password),
                must_change_password=must_change_password, session_version=1, failed_logins=0)
    user.set_roles(roles)
    session.add(user)
    session.flush()
    audit.record(session, audit.USER_CREATED, now=now, actor_id=actor.id if actor else None,
                 target=f"user:{user.id}", roles=sorted(roles))
    return user


def _display_name(value) -> str:
    return checked(value, "display_name", DISPLAY_NAME_MAX, required=True, multiline=False,
                   message=N_("请填写姓名。"), too_long=N_("姓名最多 %(max)d 个字。"))


def check_email(email: str | None) -> str | None:
    """An address for reminders, or None. Plain check: one @, a dot in the domain, no spaces."""
    email = (email or "").strip().lower()
    if not email:
        return None
    if len(email) > 120 or not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email):
        raise InvalidInput(N_("电子邮箱格式不对，例如 zhang.wei@example.com。"), field="email")
    return email


def update_user(session, actor, user: User, *, display_name: str, unit: OrgUnit | None, roles,
                is_head: bool, locale: str, email: str | None = None, now: datetime) -> None:
    display_name = _display_name(display_name)
    if unit is None or unit.id != user.org_unit_id:
        _check_unit(unit)
    roles = _check_roles(roles)
    if locale not in LOCALES:
        raise InvalidInput(N_("不支持的语言。"), field="locale")
    email = check_email(email)
    if Role.ADMIN in user.roles and Role.ADMIN not in roles and user.active \
            and not _other_active_admins(session, user):
        raise NotAllowed(N_("这是最后一位系统管理员，不能取消其管理员角色。"), field="roles")
    changed = sorted(
        name for name, old, new in (
            ("display_name", user.display_name, display_name), ("org_unit", user.org_unit_id, unit.id),
            ("roles", sorted(user.roles), sorted(roles)), ("is_head", user.is_head, is_head),
            ("locale", user.locale, locale), ("email", user.email, email)) if old != new)
    if not changed:
        return
    user.display_name = display_name
    user.org_unit = unit
    user.set_roles(roles)
    user.is_head = is_head
    user.locale = locale
    user.email = email
    audit.record(session, audit.USER_UPDATED, now=now, actor_id=actor.id, target=f"user:{user.id}",
                 changed=changed, roles=sorted(roles))


def reset_password(session, actor, user: User, new_password: str, *, now: datetime) -> None:
    """Admin sets a temporary password; the user must choose their own at next login.
    All the user's sessions end; a lock is lifted."""
    _check_password(new_password, user.username)
    user.password_hash = hash_password(new_password)
    user.must_change_password = True
    user.session_version += 1
    user.failed_logins = 0
    user.locked_until = None
    audit.record(session, audit.PASSWORD_RESET, now=now, actor_id=actor.id, target=f"user:{user.id}")


def set_active(session, actor, user: User, active: bool, *, now: datetime) -> None:
    if user.active == active:
        return
    if not active:
        if user.id == actor.id:
            raise NotAllowed(N_("不能停用自己的账号。"))
        if Role.ADMIN in user.roles and not _other_active_admins(session, user):
            raise NotAllowed(N_("这是最后一位系统管理员，不能停用。"))
        user.session_version += 1  # ends the user's sessions at once
    else:
        _check_unit(user.org_unit)
    user.active = active
    audit.record(session, audit.USER_UPDATED, now=now, actor_id=actor.id, target=f"user:{user.id}",
                 changed=["active"], active=active)


def unlock(session, actor, user: User, *, now: datetime) -> None:
    user.failed_logins = 0
    user.locked_until = None
    audit.record(session, audit.USER_UPDATED, now=now, actor_id=actor.id, target=f"user:{user.id}", changed=["unlock"])
