"""Accounts and signed-in sessions for tests, written straight to the database.

Made as the sign-in would make them (a `sessions` row, a token naming it), without going through
the command line's rules: tests bind crew accounts to units they create later, and keep their
speed by hashing each test password once."""

from datetime import UTC, datetime, timedelta
from functools import cache

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.passwords import hash_password
from app.auth.tokens import issue_token
from app.models import Area, User
from app.services import user_sessions


@cache
def password_hash(password: str) -> str:
    return hash_password(password)


async def make_account(
    session: AsyncSession,
    username: str,
    role: str,
    *,
    password: str,
    unit: str | None = None,
    area: str = "default",
) -> User:
    area_id = await session.scalar(select(Area.id).where(Area.code == area))
    assert area_id is not None, f"no area {area!r}"
    user = User(
        username=username,
        password_hash=password_hash(password),
        role=role,
        area_id=area_id,
        unit_callsign=unit,
        active=True,
    )
    session.add(user)
    await session.flush()
    return user


async def open_session(
    session: AsyncSession, user_id: int, *, secret: str, ttl: timedelta = timedelta(hours=1)
) -> tuple[str, str]:
    """A signed-in session for the user: (access token, session id)."""
    opened = await user_sessions.open_session(
        user_id, session=session, now=datetime.now(UTC), ttl=ttl, client_ip="127.0.0.1"
    )
    token = issue_token(
        user_id=user_id, session_id=opened.id, expires_at=opened.expires_at, secret=secret
    )
    return token, str(opened.id)
