"""Request dependencies: the unit-of-work session and the authenticated actor."""

from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.auth.actor import Actor
from app.auth.session_rules import renewal_due
from app.auth.tokens import InvalidToken, read_token
from app.errors import AppError
from app.services import user_sessions
from app.services.user_sessions import Unauthenticated


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


def idle_limit(request: Request) -> timedelta:
    return timedelta(minutes=request.app.state.settings.session_idle_minutes)


async def authenticate(
    sessionmaker: async_sessionmaker[AsyncSession],
    token: str,
    *,
    secret: str,
    idle: timedelta,
    now: datetime,
) -> Actor:
    """Resolve a bearer token to the actor of a session that may still be used, renewing the
    session's idle clock when due. In a short transaction of its own, before the request's own
    session takes a connection: a request never holds two pooled connections at once, and the
    renewal is neither held locked for the request's length nor undone by its failure."""
    try:
        claims = read_token(token, secret=secret)
    except InvalidToken as exc:
        raise Unauthenticated(f"The access token is not valid ({exc}); sign in again.") from exc
    async with sessionmaker() as session, session.begin():
        resolved = await user_sessions.resolve(
            claims.session_id, claims.user_id, session=session, now=now, idle=idle
        )
        if renewal_due(resolved.facts.last_seen_at, now=now):
            await user_sessions.renew(claims.session_id, session=session, now=now)
    return resolved.actor


async def get_actor(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Actor:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthenticated("Sign in first: send `Authorization: Bearer <token>`.")
    state = request.app.state
    actor = await authenticate(
        state.sessionmaker,
        credentials.credentials,
        secret=state.secret_key,
        idle=idle_limit(request),
        now=datetime.now(UTC),
    )
    return replace(
        actor,
        request_id=request.state.request_id,
        client_ip=client_address(request),
    )


def client_address(request: Request) -> str | None:
    """The client's address: the peer, or what a trusted proxy says it forwarded for (uvicorn
    believes X-Forwarded-For only from `TRUSTED_PROXIES`; see app/__main__.py)."""
    return request.client.host if request.client else None


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
