"""CS users and API tokens: passwords and tokens are kept only as hashes."""

from __future__ import annotations

import functools
import hashlib
import secrets

from sqlalchemy import select
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


def authenticate(session, name: str, password: str) -> User | None:
    user = session.scalars(select(User).where(User.name == name.strip(), User.active.is_(True))).first()
    if user is None:
        check_password_hash(_dummy_hash(), password)  # one hash run whether or not the user exists
        return None
    return user if check_password_hash(user.password_hash, password) else None


def create_token(session, name: str) -> str:
    """A new API token for user ``name``; the plain token is returned once and never stored."""
    user = session.scalars(select(User).where(User.name == name)).first()
    if user is None:
        raise AccountError(f"no user {name}; create it with 'cocreate user add {name}'")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, token_hash=_token_hash(token)))
    return token


def user_for_token(session, token: str) -> User | None:
    row = session.scalars(
        select(ApiToken).where(ApiToken.token_hash == _token_hash(token), ApiToken.revoked_at.is_(None))
    ).first()
    if row is None or not row.user.active:
        return None
    row.last_used_at = utcnow()
    return row.user
