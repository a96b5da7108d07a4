"""Login throttling: after too many refused logins for a name (or from an address) in a window, every login
for it is refused for a while, the right password included."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, func, select

from sync.ledger.store import LoginFailure, utcnow

WINDOW = dt.timedelta(minutes=15)
NAME_LIMIT = 5
ADDRESS_LIMIT = 20


def _key(name: str) -> str:
    return name.strip().casefold()[:200]


def blocked(session, name: str, address: str | None) -> bool:
    """Whether a login for ``name`` (from ``address``, when it is known) must be refused now.

    ``address`` is None unless a trusted proxy names the client: behind a proxy every client has the proxy's
    address, and one noisy client would lock everyone out."""
    since = utcnow() - WINDOW
    recent = select(func.count()).select_from(LoginFailure).where(LoginFailure.at > since)
    if session.scalar(recent.where(LoginFailure.name == _key(name))) >= NAME_LIMIT:
        return True
    return address is not None and session.scalar(recent.where(LoginFailure.address == address)) >= ADDRESS_LIMIT


def record_failure(session, name: str, address: str | None) -> None:
    """Count one refused login, and forget those older than the window."""
    now = utcnow()
    session.execute(delete(LoginFailure).where(LoginFailure.at <= now - WINDOW))
    session.add(LoginFailure(name=_key(name), address=address, at=now))


def clear(session, name: str) -> None:
    """A successful login: the name's earlier failures no longer count. The address's still do, so one account
    someone knows cannot reset the count of an address trying others."""
    session.execute(delete(LoginFailure).where(LoginFailure.name == _key(name)))
