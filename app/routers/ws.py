"""`GET /ws?ticket=…[&after=<event id>]`: live events for the signed-in user.

The ticket (POST /api/v1/auth/ws-ticket) is single use and valid 30 s, so no long-lived secret
is ever in the URL; the access token is not accepted here. The socket then lives only as long
as its session: it closes with 4401 as soon as the session is revoked or ends, the account is
disabled, or the account's role, unit or area changes (the app signs in again and gets what its
new role and unit may see), announced on `triage_auth` by every instance's listener."""

import asyncio
import contextlib
import logging
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, WebSocket
from sqlalchemy.exc import SQLAlchemyError

from app.auth.actor import Actor
from app.auth.session_rules import next_check_in, renewal_due
from app.auth.watch import AuthWatch
from app.errors import AppError
from app.realtime.audience import Viewer
from app.realtime.stream import SubscriberStream, close_quietly
from app.realtime.wire import control
from app.services import dispatch, user_sessions
from app.services.user_sessions import ResolvedSession, Unauthenticated

router = APIRouter(tags=["live"])
log = logging.getLogger(__name__)

CLOSE_BAD_REQUEST = 4400
CLOSE_UNAUTHENTICATED = 4401
ASK_FOR_A_TICKET = "get a ticket from POST /api/v1/auth/ws-ticket and connect with ?ticket="


@router.websocket("/ws")
async def events_socket(
    websocket: WebSocket, ticket: str | None = None, after: str | None = None
) -> None:
    await websocket.accept()
    state = websocket.app.state
    if "token" in websocket.query_params:
        await close_quietly(
            websocket, CLOSE_UNAUTHENTICATED, f"?token= is refused: {ASK_FOR_A_TICKET}"
        )
        return
    if not ticket:
        await close_quietly(websocket, CLOSE_UNAUTHENTICATED, f"missing ticket: {ASK_FOR_A_TICKET}")
        return
    if after is not None and not after.isdigit():
        await close_quietly(websocket, CLOSE_BAD_REQUEST, "after must be an event id")
        return
    idle = timedelta(minutes=state.settings.session_idle_minutes)
    try:
        async with state.sessionmaker() as session, session.begin():
            now = datetime.now(UTC)
            opened = await user_sessions.claim_ticket(ticket, session=session, now=now, idle=idle)
            if renewal_due(opened.facts.last_seen_at, now=now):
                await user_sessions.renew(opened.actor.session_id, session=session, now=now)
    except Unauthenticated as exc:
        await close_quietly(websocket, CLOSE_UNAUTHENTICATED, exc.message[:120])
        return
    actor = replace(
        opened.actor,
        request_id=websocket.scope.get("state", {}).get("request_id"),
        client_ip=websocket.client.host if websocket.client else None,
    )
    viewer = Viewer(actor.user_id, actor.role, actor.area_id, actor.unit_callsign)

    async def on_command(_: Viewer, message: dict[str, Any]) -> str:
        return await handle_command(state.sessionmaker, actor, message)

    watch: AuthWatch = state.listener.auth_watch
    assert actor.session_id is not None
    with watch.watch(user_id=actor.user_id, session_id=actor.session_id) as changed:
        # A change announced while the ticket was being claimed would otherwise be missed.
        changed.set()

        async def guard() -> None:
            await close_when_session_ends(websocket, state, opened, changed)

        presence = getattr(state, "presence", None)
        if presence is not None and actor.unit_callsign:
            await presence.joined(actor.unit_callsign)
        stream = SubscriberStream(
            websocket,
            viewer,
            hub=state.hub,
            sessionmaker=state.sessionmaker,
            on_command=on_command,
            send_timeout=state.settings.ws_send_timeout_seconds,
            guard=guard,
        )
        try:
            await stream.run(int(after) if after is not None else None)
        finally:
            if presence is not None and actor.unit_callsign:
                await presence.left(actor.unit_callsign)


def scope_changed(before: Actor, now: Actor) -> bool:
    """What the socket was opened with decides what it receives: a change means a new socket."""
    return (before.role, before.area_id, before.unit_callsign) != (
        now.role,
        now.area_id,
        now.unit_callsign,
    )


async def close_when_session_ends(
    websocket: WebSocket, state: Any, opened: ResolvedSession, changed: asyncio.Event
) -> None:
    """Re-check the socket's session when a change to it or its account is announced, every
    `WS_RECHECK_SECONDS` in case an announcement was missed, and when it would end on its own;
    close with 4401 once it may no longer stay open. Each re-check also renews the session's
    idle clock: an open socket (kept alive by its heartbeat) is a device in use."""
    idle = timedelta(minutes=state.settings.session_idle_minutes)
    facts = opened.facts
    session_id = opened.actor.session_id
    assert session_id is not None
    while True:
        ends_in = next_check_in(facts, now=datetime.now(UTC), idle=idle)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(
                changed.wait(), min(state.settings.ws_recheck_seconds, ends_in + 0.05)
            )
        changed.clear()
        try:
            async with state.sessionmaker() as session, session.begin():
                now = datetime.now(UTC)
                current = await user_sessions.resolve(
                    session_id, opened.actor.user_id, session=session, now=now, idle=idle
                )
                facts = current.facts
                if renewal_due(facts.last_seen_at, now=now):
                    await user_sessions.renew(session_id, session=session, now=now)
                    facts = replace(facts, last_seen_at=now)
        except Unauthenticated as exc:
            await close_quietly(websocket, CLOSE_UNAUTHENTICATED, exc.message[:120])
            return
        except (SQLAlchemyError, OSError) as exc:
            # The database is briefly away: keep the socket, ask again next time.
            log.warning("could not re-check a websocket's session (%s)", type(exc).__name__)
            await asyncio.sleep(1.0)
            continue
        if scope_changed(opened.actor, current.actor):
            await close_quietly(
                websocket,
                CLOSE_UNAUTHENTICATED,
                "Your role, unit or area has changed; sign in again.",
            )
            return


async def handle_command(sessionmaker: Any, actor: Actor, message: dict[str, Any]) -> str:
    """Commands a client may send besides ping. Each runs in its own short transaction."""
    kind = message.get("type")
    if kind != "assignment.accept":
        return control("error", code="unknown_type", message=f"Unknown message type {kind!r}.")
    assignment_id = message.get("assignment_id")
    if not isinstance(assignment_id, int) or isinstance(assignment_id, bool):
        return control(
            "assignment.accept.result",
            ok=False,
            assignment_id=assignment_id,
            error={"code": "validation_error", "message": "assignment_id must be a number"},
        )
    try:
        async with sessionmaker() as session, session.begin():
            assignment = await dispatch.accept(assignment_id, session=session, actor=actor)
            status = assignment.status
    except AppError as exc:
        return control(
            "assignment.accept.result",
            ok=False,
            assignment_id=assignment_id,
            error={"code": exc.code, "message": exc.message},
        )
    return control("assignment.accept.result", ok=True, assignment_id=assignment_id, status=status)
