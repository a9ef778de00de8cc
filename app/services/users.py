"""User accounts, managed from the command line (there is no self sign-up).

Adding never silently changes an existing account (that needs `reset=True`); a password must
pass the policy (app/auth/password_policy.py); a crew or nurse account is bound to a unit that
exists in its area. Disabling an account, resetting its password or resetting the account ends
every session it has, on every instance at once (app/auth/watch.py). Each is audited.
"""

import re
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.password_policy import check_password_policy
from app.auth.passwords import hash_password
from app.models import AuditEntry, Unit, User
from app.models.user import ROLES
from app.services import user_sessions
from app.services.areas import get_by_code

# Letters, digits and . _ @ - (no spaces or brackets: a username is never confused with the
# audit trail's "(command line)" or "(no such account)").
USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,79}")
ROLES_WITH_UNIT = ("crew", "nurse")
COMMAND_LINE = "(command line)"


class AccountError(ValueError):
    """The request breaks a rule; the message says which, for the person at the command line."""


async def find_by_username(username: str, *, session: AsyncSession) -> User | None:
    return await session.scalar(select(User).where(User.username == username))


async def add_user(
    username: str,
    password: str,
    *,
    session: AsyncSession,
    role: str,
    now: datetime,
    area: str = "default",
    unit: str | None = None,
    reset: bool = False,
) -> User:
    """Create an account. With `reset`, an existing one of that name is instead given this
    password, role, area and unit, enabled, and signed out everywhere."""
    if not USERNAME.fullmatch(username):
        raise AccountError(
            "a username is 1 to 80 letters, digits and . _ @ -, starting with a letter or digit"
        )
    if role not in ROLES:
        raise AccountError(f"unknown role {role!r}; one of {', '.join(ROLES)}")
    if role == "crew" and not unit:
        raise AccountError("a crew account must be bound to a unit (--unit CALLSIGN)")
    if unit and role not in ROLES_WITH_UNIT:
        raise AccountError(f"only {' and '.join(ROLES_WITH_UNIT)} accounts are bound to a unit")
    check_password_policy(password, username=username)
    area_row = await get_by_code(area, session=session)
    if unit and not await session.scalar(
        select(Unit.id).where(Unit.callsign == unit, Unit.area_id == area_row.id)
    ):
        raise AccountError(f"there is no unit {unit!r} in area {area!r}; add the unit first")
    user = await find_by_username(username, session=session)
    if user is not None and not reset:
        raise AccountError(
            f"user {username!r} already exists; add --reset to replace its password, role, "
            "area and unit (this signs it out everywhere)"
        )
    action = "user.created"
    revoked = 0
    if user is None:
        user = User(username=username)
        session.add(user)
    else:
        action = "user.reset"
        revoked = await user_sessions.revoke_all(
            user.id, session=session, reason="account_reset", now=now
        )
        user.password_changed_at = now
    user.password_hash = hash_password(password)
    user.role = role
    user.area_id = area_row.id
    user.unit_callsign = unit
    user.active = True
    await session.flush()
    _audit(
        session,
        action,
        user,
        {"role": role, "area": area, "unit": unit, "sessions_revoked": revoked},
    )
    return user


async def disable_user(username: str, *, session: AsyncSession, now: datetime) -> int:
    """Disable an account and end its sessions; returns how many were open."""
    user = await _existing(username, session=session)
    user.active = False
    revoked = await user_sessions.revoke_all(user.id, session=session, reason="disabled", now=now)
    await session.flush()
    _audit(session, "user.disabled", user, {"sessions_revoked": revoked})
    return revoked


async def reset_password(
    username: str, password: str, *, session: AsyncSession, now: datetime
) -> int:
    """Give an account a new password and end its sessions; returns how many were open. A
    disabled account stays disabled."""
    user = await _existing(username, session=session)
    check_password_policy(password, username=username)
    user.password_hash = hash_password(password)
    user.password_changed_at = now
    revoked = await user_sessions.revoke_all(
        user.id, session=session, reason="password_reset", now=now
    )
    await session.flush()
    _audit(session, "user.password_reset", user, {"sessions_revoked": revoked})
    return revoked


async def _existing(username: str, *, session: AsyncSession) -> User:
    user = await find_by_username(username, session=session)
    if user is None:
        raise AccountError(f"there is no user {username!r}")
    return user


def _audit(session: AsyncSession, action: str, user: User, detail: dict[str, Any]) -> None:
    session.add(
        AuditEntry(
            actor_id=None,
            actor_username=COMMAND_LINE,
            actor_role="admin",
            action=action,
            subject_type="user",
            subject_id=str(user.id),
            detail={"username": user.username, **detail},
        )
    )
