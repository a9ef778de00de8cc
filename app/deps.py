"""Request dependencies: the unit-of-work session and the authenticated actor."""

from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.actor import Actor
from app.auth.tokens import InvalidToken, read_token
from app.errors import AppError
from app.models import Area, User


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One session per request: committed when the endpoint returns, rolled back if it raises,
    so a failed request writes nothing."""
    async with request.app.state.sessionmaker() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise


# scope="function": commit before the response is sent. With the default ("request") the commit
# would run after the client already has its 201, which could then be a lie, and a client's next
# request could race the commit and not see its own write.
Session = Annotated[AsyncSession, Depends(get_session, scope="function")]

_bearer = HTTPBearer(auto_error=False, description="`Authorization: Bearer <access_token>`")


def unauthenticated(message: str) -> AppError:
    return AppError(401, "unauthenticated", message, headers={"WWW-Authenticate": "Bearer"})


# Built once: asked on every request, so its construction and cache key are not paid each time.
_USER_AND_AREA = (
    select(User, Area.code)
    .join(Area, Area.id == User.area_id)
    .where(User.id == bindparam("user_id"))
)


async def load_actor(session: AsyncSession, token: str, *, secret: str) -> Actor:
    """Resolve a bearer token to an active user (used by HTTP and the websocket)."""
    try:
        user_id = read_token(token, secret=secret)
    except InvalidToken as exc:
        raise unauthenticated(f"The access token is not valid ({exc}); sign in again.") from exc
    row = (await session.execute(_USER_AND_AREA, {"user_id": user_id})).first()
    if row is None or not row[0].active:
        raise unauthenticated("This account is not active; sign in again.")
    user, area_code = row
    return Actor(user.id, user.username, user.role, user.area_id, area_code, user.unit_callsign)


async def get_actor(
    request: Request,
    session: Session,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Actor:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise unauthenticated("Sign in first: send `Authorization: Bearer <token>`.")
    actor = await load_actor(session, credentials.credentials, secret=request.app.state.secret_key)
    client = request.client.host if request.client else None
    return Actor(
        actor.user_id,
        actor.username,
        actor.role,
        actor.area_id,
        actor.area_code,
        actor.unit_callsign,
        request_id=request.state.request_id,
        client_ip=client,
    )


def require_roles(*roles: str) -> Callable[..., Coroutine[Any, Any, Actor]]:
    """Dependency: the actor, if their role is one of `roles`; 403 otherwise."""

    async def dependency(actor: Annotated[Actor, Depends(get_actor)]) -> Actor:
        if actor.role not in roles:
            raise AppError(
                403,
                "forbidden",
                f"The {actor.role} role may not do this (allowed: {', '.join(roles)}).",
            )
        return actor

    return dependency
