"""User accounts (created from the command line; there is no self sign-up)."""

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.passwords import hash_password
from app.models import User
from app.models.user import ROLES
from app.services.areas import get_by_code


async def upsert_user(
    username: str,
    password: str,
    *,
    session: AsyncSession,
    role: str,
    area: str = "default",
    unit: str | None = None,
) -> User:
    """Create the user, or reset an existing one's password, role, area and unit."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; one of {', '.join(ROLES)}")
    if role == "crew" and not unit:
        raise ValueError("a crew account must be bound to a unit (--unit CALLSIGN)")
    area_row = await get_by_code(area, session=session)
    user = await session.scalar(select(User).where(User.username == username))
    if user is None:
        user = User(username=username)
        session.add(user)
    user.password_hash = hash_password(password)
    user.role = role
    user.area_id = area_row.id
    user.unit_callsign = unit
    user.active = True
    await session.flush()
    return user
