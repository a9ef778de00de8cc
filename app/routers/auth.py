"""Signing in and out, and websocket tickets.

Signing in runs in short transactions of its own rather than the request's: a failed sign-in is
audited in a transaction that the 401 does not roll back, and a success commits the session and
its audit row together before the token is handed out."""

from datetime import UTC, datetime, timedelta
from math import ceil
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel

from app.auth.actor import Actor
from app.auth.password_policy import MAX_LENGTH as MAX_PASSWORD_LENGTH
from app.auth.passwords import check_password
from app.auth.throttle import SignInThrottle
from app.auth.tickets import TICKET_TTL_SECONDS
from app.auth.tokens import InvalidToken, issue_token, read_token
from app.deps import Session, client_address, get_actor
from app.errors import AppError
from app.models import User
from app.schemas.common import ErrorResponse
from app.services import user_sessions, users
from app.services.user_sessions import Unauthenticated

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])

MAX_USERNAME_LENGTH = 80  # as stored (users.username)
_bearer = HTTPBearer(auto_error=False)
_UNAUTHENTICATED = {401: {"model": ErrorResponse, "description": "Not signed in"}}


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"
    role: str
    expires_in: int
    unit: str | None = None
    # A session unused this long ends (an open websocket counts as use).
    idle_timeout: int


class WsTicket(BaseModel):
    ticket: str
    expires_in: int = TICKET_TTL_SECONDS


class SignInForm:
    """The OAuth2 password flow's form. Lengths are checked before anything else: an over-long
    username is refused (422) without being looked up, throttled or kept."""

    def __init__(
        self,
        username: Annotated[str, Form(min_length=1, max_length=MAX_USERNAME_LENGTH)],
        password: Annotated[str, Form(min_length=1, max_length=MAX_PASSWORD_LENGTH)],
        grant_type: Annotated[str | None, Form(pattern="^password$")] = None,
    ) -> None:
        self.username = username
        self.password = password


@router.post(
    "/token",
    summary="Sign in (OAuth2 password flow)",
    responses={
        401: {"model": ErrorResponse, "description": "Wrong username or password"},
        422: {"model": ErrorResponse, "description": "A field missing or too long"},
        429: {"model": ErrorResponse, "description": "Too many failed sign-ins (Retry-After)"},
    },
)
async def token(request: Request, form: Annotated[SignInForm, Depends()]) -> Token:
    state = request.app.state
    throttle: SignInThrottle = state.sign_in_throttle
    address = client_address(request) or "unknown"
    wait = throttle.retry_after(form.username, address)
    if wait is not None:
        raise AppError(
            429,
            "too_many_attempts",
            f"Too many failed sign-ins; try again in {ceil(wait)} second(s).",
            headers={"Retry-After": str(ceil(wait))},
        )
    # Counted as failed until proven right, so parallel guesses cannot all pass the check above.
    throttle.failed(form.username, address)
    async with state.sessionmaker() as session:
        user = await users.find_by_username(form.username, session=session)
    right = await check_password(form.password, user.password_hash if user else None)
    if not (right and user is not None and user.active):
        async with state.sessionmaker() as session, session.begin():
            user_sessions.record_auth_event(
                session=session,
                action="auth.sign_in_failed",
                user=user,
                outcome="denied",
                client_ip=address,
                request_id=request.state.request_id,
                detail={"reason": _failure_reason(user, right)},
            )
        raise AppError(401, "invalid_credentials", "Wrong username or password.")
    throttle.succeeded(form.username, address)
    settings = state.settings
    async with state.sessionmaker() as session, session.begin():
        opened = await user_sessions.open_session(
            user.id,
            session=session,
            now=datetime.now(UTC),
            ttl=timedelta(minutes=settings.token_ttl_minutes),
            client_ip=address,
        )
        user_sessions.record_auth_event(
            session=session,
            action="auth.sign_in",
            user=user,
            session_id=opened.id,
            client_ip=address,
            request_id=request.state.request_id,
        )
    access_token = issue_token(
        user_id=user.id, session_id=opened.id, expires_at=opened.expires_at, secret=state.secret_key
    )
    return Token(
        access_token=access_token,
        role=user.role,
        expires_in=settings.token_ttl_minutes * 60,
        unit=user.unit_callsign,
        idle_timeout=settings.session_idle_minutes * 60,
    )


def _failure_reason(user: User | None, right: bool) -> str:
    if user is None:
        return "no_such_account"
    return "account_disabled" if right else "wrong_password"


@router.post(
    "/logout",
    status_code=204,
    summary="Sign out: end this session on every instance",
    responses=_UNAUTHENTICATED,
)
async def logout(
    request: Request,
    session: Session,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Response:
    """Ends the session the token belongs to. A token whose session has already ended (signed
    out, expired, revoked) is answered 204 as well, so signing out is safe to repeat; a token
    this service did not sign is refused."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthenticated("Sign in first: send `Authorization: Bearer <token>`.")
    try:
        claims = read_token(
            credentials.credentials, secret=request.app.state.secret_key, verify_expiry=False
        )
    except InvalidToken as exc:
        raise Unauthenticated(f"The access token is not valid ({exc}).") from exc
    ended = await user_sessions.revoke(
        claims.session_id,
        user_id=claims.user_id,
        session=session,
        reason="signed_out",
        now=datetime.now(UTC),
    )
    if ended is not None:
        user_sessions.record_auth_event(
            session=session,
            action="auth.sign_out",
            user=await session.get(User, claims.user_id),
            session_id=ended.id,
            client_ip=client_address(request),
            request_id=request.state.request_id,
        )
    return Response(status_code=204)


@router.post(
    "/ws-ticket",
    summary="A single-use ticket (30 s) to open the websocket: `GET /ws?ticket=…`",
    responses=_UNAUTHENTICATED,
)
async def ws_ticket(session: Session, actor: Annotated[Actor, Depends(get_actor)]) -> WsTicket:
    assert actor.session_id is not None
    ticket = await user_sessions.issue_ticket(
        actor.session_id, session=session, now=datetime.now(UTC)
    )
    return WsTicket(ticket=ticket)
