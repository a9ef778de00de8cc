"""Signed-in sessions, server side: opened at sign-in, resolved on every request and socket,
renewed by use, revoked by signing out or by an administrator, purged once long over.

The access token names the user and the session (app/auth/tokens.py); whether the session may
still be used is decided here, from the database, in one query per request (session, user and
area together). The rules themselves are pure (app/auth/session_rules.py).
"""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import Select, bindparam, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.actor import Actor
from app.auth.session_rules import RENEW_EVERY, SessionFacts, refusal
from app.auth.tickets import MAX_TICKET_LENGTH, TICKET_TTL_SECONDS, new_ticket, ticket_hash
from app.errors import AppError
from app.models import Area, AuditEntry, User, UserSession, WsTicket

# Ended sessions are kept this long after their shift-long limit (who signed in from where, for
# an investigation alongside the audit trail, which names the session), then deleted.
KEEP_ENDED_SESSIONS = timedelta(days=7)


class Unauthenticated(AppError):
    def __init__(self, message: str) -> None:
        super().__init__(401, "unauthenticated", message, headers={"WWW-Authenticate": "Bearer"})


@dataclass(frozen=True, slots=True)
class ResolvedSession:
    """Who is behind a session that may still be used, and the facts it was judged on."""

    actor: Actor
    facts: SessionFacts


def _with_user_and_area(statement: Select[Any]) -> Select[Any]:
    return statement.join(User, User.id == UserSession.user_id).join(Area, Area.id == User.area_id)


# Built once: asked on every request, so its construction and cache key are not paid each time.
_SESSION_USER_AREA = _with_user_and_area(select(UserSession, User, Area.code)).where(
    UserSession.id == bindparam("session_id"), UserSession.user_id == bindparam("user_id")
)


def _judge(row: Any, *, now: datetime, idle: timedelta) -> ResolvedSession:
    if row is None:
        raise Unauthenticated("This session is not known; sign in again.")
    user_session, user, area_code = row
    facts = SessionFacts(
        created_at=user_session.created_at,
        last_seen_at=user_session.last_seen_at,
        expires_at=user_session.expires_at,
        revoked_at=user_session.revoked_at,
        revoked_reason=user_session.revoked_reason,
        user_active=user.active,
        password_changed_at=user.password_changed_at,
    )
    if (why := refusal(facts, now=now, idle=idle)) is not None:
        raise Unauthenticated(why)
    actor = Actor(
        user.id,
        user.username,
        user.role,
        user.area_id,
        area_code,
        user.unit_callsign,
        session_id=user_session.id,
    )
    return ResolvedSession(actor, facts)


async def open_session(
    user_id: int, *, session: AsyncSession, now: datetime, ttl: timedelta, client_ip: str | None
) -> UserSession:
    user_session = UserSession(
        id=uuid.uuid4(),
        user_id=user_id,
        created_at=now,
        last_seen_at=now,
        expires_at=now + ttl,
        client_ip=client_ip,
    )
    session.add(user_session)
    await session.flush()
    return user_session


async def resolve(
    session_id: UUID, user_id: int, *, session: AsyncSession, now: datetime, idle: timedelta
) -> ResolvedSession:
    """The session's actor, or Unauthenticated saying why the session may not be used."""
    row = (
        await session.execute(_SESSION_USER_AREA, {"session_id": session_id, "user_id": user_id})
    ).first()
    return _judge(row, now=now, idle=idle)


async def renew(session_id: UUID, *, session: AsyncSession, now: datetime) -> None:
    """Mark the session used now (the caller checked `renewal_due`); a no-op for a session
    renewed meanwhile by another request or instance, or revoked."""
    await session.execute(
        update(UserSession)
        .where(
            UserSession.id == session_id,
            UserSession.revoked_at.is_(None),
            UserSession.last_seen_at <= now - RENEW_EVERY,
        )
        .values(last_seen_at=now)
    )


async def revoke(
    session_id: UUID, *, user_id: int, session: AsyncSession, reason: str, now: datetime
) -> UserSession | None:
    """End one session of `user_id`; returns it, or None if it had already ended or is not
    known."""
    return await session.scalar(
        update(UserSession)
        .where(
            UserSession.id == session_id,
            UserSession.user_id == user_id,
            UserSession.revoked_at.is_(None),
        )
        .values(revoked_at=now, revoked_reason=reason)
        .returning(UserSession)
    )


async def revoke_all(user_id: int, *, session: AsyncSession, reason: str, now: datetime) -> int:
    """End every open session of a user (each revocation is announced to every instance)."""
    result = await session.execute(
        update(UserSession)
        .where(UserSession.user_id == user_id, UserSession.revoked_at.is_(None))
        .values(revoked_at=now, revoked_reason=reason)
        .returning(UserSession.id)
    )
    return len(result.all())


async def issue_ticket(session_id: UUID, *, session: AsyncSession, now: datetime) -> str:
    """A single-use websocket ticket for this session; only its hash is stored."""
    ticket = new_ticket()
    session.add(
        WsTicket(
            ticket_hash=ticket_hash(ticket),
            session_id=session_id,
            expires_at=now + timedelta(seconds=TICKET_TTL_SECONDS),
        )
    )
    await session.flush()
    return ticket


async def claim_ticket(
    ticket: str, *, session: AsyncSession, now: datetime, idle: timedelta
) -> ResolvedSession:
    """Use a ticket (once, on whichever instance comes first) and resolve its session, in one
    statement: the claim is an UPDATE … WHERE used_at IS NULL, so of two instances racing for
    the same ticket exactly one gets a row."""
    if not ticket or len(ticket) > MAX_TICKET_LENGTH:
        raise Unauthenticated("This ticket is not valid; ask for a new one.")
    claimed = (
        update(WsTicket)
        .where(
            WsTicket.ticket_hash == ticket_hash(ticket),
            WsTicket.used_at.is_(None),
            WsTicket.expires_at > now,
        )
        .values(used_at=now)
        .returning(WsTicket.session_id)
        .cte("claimed")
    )
    statement = _with_user_and_area(
        select(UserSession, User, Area.code).join(claimed, claimed.c.session_id == UserSession.id)
    )
    row = (await session.execute(statement)).first()
    if row is None:
        raise Unauthenticated(
            "This ticket is not valid, already used or expired; ask for a new one."
        )
    return _judge(row, now=now, idle=idle)


async def purge_ended(*, session: AsyncSession, now: datetime) -> int:
    """Delete expired tickets, and sessions long over (with any ticket left on them)."""
    old_sessions = select(UserSession.id).where(UserSession.expires_at < now - KEEP_ENDED_SESSIONS)
    tickets = await session.execute(
        delete(WsTicket).where(
            or_(WsTicket.expires_at < now, WsTicket.session_id.in_(old_sessions))
        )
    )
    sessions = await session.execute(
        delete(UserSession).where(UserSession.expires_at < now - KEEP_ENDED_SESSIONS)
    )
    return (tickets.rowcount or 0) + (sessions.rowcount or 0)


def record_auth_event(
    *,
    session: AsyncSession,
    action: str,
    user: User | None,
    outcome: str = "allowed",
    session_id: UUID | None = None,
    client_ip: str | None = None,
    request_id: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """An audit row for signing in, out, and account changes. `user` is None for a sign-in with
    a username that is no account: what was typed is not recorded (it may be a password typed in
    the wrong box)."""
    session.add(
        AuditEntry(
            actor_id=user.id if user else None,
            actor_username=user.username if user else "(no such account)",
            actor_role=user.role if user else "none",
            action=action,
            subject_type="user",
            subject_id=str(user.id) if user else None,
            request_id=request_id,
            client_ip=client_ip,
            outcome=outcome,
            session_id=str(session_id) if session_id else None,
            detail=detail or {},
        )
    )


PURGE_EVERY_SECONDS = 300.0


async def purge_job(session: AsyncSession) -> int:
    """The worker job (app/workers.py) that runs `purge_ended` on every instance; deleting the
    same rows twice is harmless, so no instance needs to hold a lock for it."""
    return await purge_ended(session=session, now=datetime.now(UTC))
