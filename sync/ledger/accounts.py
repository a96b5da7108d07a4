"""CS users and API tokens: passwords and tokens are kept only as hashes."""

from __future__ import annotations

import functools
import hashlib
import secrets

from sqlalchemy import select
from sqlalchemy.orm import selectinload
from werkzeug.security import check_password_hash, generate_password_hash

from sync.ledger.store import ApiToken, User, utcnow

ROLES = ("admin", "cs")
TOKEN_PREFIX = "cct_"
MIN_PASSWORD = 8


class AccountError(ValueError):
    """A user or token request that cannot be carried out, with the reason."""


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def add_user(session, name: str, password: str, role: str) -> User:
    name = name.strip()
    if not name:
        raise AccountError("a user needs a name")
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}")
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"the password needs at least {MIN_PASSWORD} characters")
    if session.scalars(select(User).where(User.name == name)).first() is not None:
        raise AccountError(f"user {name} exists already")
    user = User(name=name, password_hash=generate_password_hash(password), role=role)
    session.add(user)
    session.flush()
    return user


@functools.cache
def _dummy_hash() -> str:
    """A hash made like a real one, checked for unknown names so they cost what a known name costs."""
    return generate_password_hash(secrets.token_urlsafe(16))


def _user(session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise AccountError(f"no user with id {user_id}")
    return user


def user_id_of(session, name: str) -> int:
    user = session.scalars(select(User).where(User.name == name.strip())).first()
    if user is None:
        raise AccountError(f"no user {name}")
    return user.id


def end_sessions(session, user_id: int) -> None:
    """End the user's sessions in every browser: cookies carry the old epoch, which no longer matches."""
    user = _user(session, user_id)
    user.session_epoch = (user.session_epoch or 0) + 1


def set_password(session, user_id: int, password: str) -> None:
    """A new password; every session of the user ends (the browser that changed it logs in again)."""
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"the password needs at least {MIN_PASSWORD} characters")
    _user(session, user_id).password_hash = generate_password_hash(password)
    end_sessions(session, user_id)


class LastAdmin(AccountError):
    """The change would leave no active admin, and so nobody who can manage users."""


def _keep_an_admin(session, user: User) -> None:
    others = session.scalars(select(User.id).where(User.role == "admin", User.active.is_(True),
                                                   User.id != user.id)).first()
    if user.role == "admin" and user.active and others is None:
        raise LastAdmin(f"{user.name} is the last active admin; make another user admin first")


def deactivate(session, user_id: int) -> None:
    """The user can no longer log in; their sessions end and their API tokens stop working. Refused for the
    last active admin (:class:`LastAdmin`)."""
    user = _user(session, user_id)
    _keep_an_admin(session, user)
    user.active = False
    end_sessions(session, user_id)


def set_role(session, user_id: int, role: str) -> None:
    """Make the user an admin or CS; their sessions go on with the new role. Refused when it would demote the
    last active admin (:class:`LastAdmin`)."""
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}")
    user = _user(session, user_id)
    if role != "admin":
        _keep_an_admin(session, user)
    user.role = role


def list_users(session) -> list[User]:
    """Every user, by name."""
    return list(session.scalars(select(User).order_by(User.name)))


def enable(session, user_id: int) -> None:
    """The user can log in again (with the password they had); their API tokens work again unless revoked."""
    _user(session, user_id).active = True


def list_tokens(session, user_id: int | None = None) -> list[ApiToken]:
    """API tokens, oldest first, with their user loaded; only one user's with ``user_id``."""
    query = select(ApiToken).options(selectinload(ApiToken.user)).order_by(ApiToken.id)
    if user_id is not None:
        query = query.where(ApiToken.user_id == user_id)
    return list(session.scalars(query))


def revoke_token(session, token_id: int) -> bool:
    """Revoke an API token for good; False if it was revoked already."""
    row = session.get(ApiToken, token_id)
    if row is None:
        raise AccountError(f"no API token with id {token_id}")
    if row.revoked_at is not None:
        return False
    row.revoked_at = utcnow()
    return True


def authenticate(session, name: str, password: str) -> User | None:
    user = session.scalars(select(User).where(User.name == name.strip(), User.active.is_(True))).first()
    if user is None:
        check_password_hash(_dummy_hash(), password)  # one hash run whether or not the user exists
        return None
    if not check_password_hash(user.password_hash, password):
        return None
    user.last_login_at = utcnow()
    return user


def create_token(session, name: str) -> str:
    """A new API token for user ``name``; the plain token is returned once and never stored."""
    user = session.scalars(select(User).where(User.name == name)).first()
    if user is None:
        raise AccountError(f"no user {name}; create it with 'cocreate user add {name}'")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, token_hash=_token_hash(token)))
    session.flush()
    return token


def user_for_token(session, token: str) -> User | None:
    row = session.scalars(
        select(ApiToken).where(ApiToken.token_hash == _token_hash(token), ApiToken.revoked_at.is_(None))
    ).first()
    if row is None or not row.user.active:
        return None
    row.last_used_at = utcnow()
    return row.user
