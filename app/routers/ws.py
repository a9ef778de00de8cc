"""`GET /ws?token=…[&after=<event id>]`: live events for the signed-in user."""

import asyncio
import logging
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, WebSocket
from sqlalchemy.exc import SQLAlchemyError

from app.auth.actor import Actor
from app.auth.tokens import expires_at
from app.deps import load_actor
from app.errors import AppError
from app.realtime.audience import Viewer
from app.realtime.stream import SubscriberStream, close_quietly
from app.realtime.wire import control
from app.services import dispatch

router = APIRouter(tags=["live"])
log = logging.getLogger(__name__)

CLOSE_BAD_REQUEST = 4400
CLOSE_UNAUTHENTICATED = 4401


@router.websocket("/ws")
async def events_socket(
    websocket: WebSocket, token: str | None = None, after: str | None = None
) -> None:
    await websocket.accept()
    state = websocket.app.state
    if not token:
        await close_quietly(websocket, CLOSE_UNAUTHENTICATED, "missing token: connect with ?token=")
        return
    try:
        async with state.sessionmaker() as session:
            actor = await load_actor(session, token, secret=state.secret_key)
    except AppError as exc:
        await close_quietly(websocket, CLOSE_UNAUTHENTICATED, exc.message[:120])
        return
    if after is not None and not after.isdigit():
        await close_quietly(websocket, CLOSE_BAD_REQUEST, "after must be an event id")
        return
    viewer = Viewer(actor.user_id, actor.role, actor.area_id, actor.unit_callsign)

    async def on_command(_: Viewer, message: dict[str, Any]) -> str:
        return await handle_command(state.sessionmaker, actor, message)

    async def guard() -> None:
        await close_when_signed_out(websocket, token, state)

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


async def close_when_signed_out(websocket: WebSocket, token: str, state: Any) -> None:
    """A socket lives no longer than its token, nor than its account: the token and the user are
    checked again at the token's expiry and every `WS_RECHECK_SECONDS`; on failure the socket is
    closed with 4401, as at connect."""
    expiry = expires_at(token, secret=state.secret_key)
    while True:
        left = (expiry - datetime.now(UTC)).total_seconds()
        await asyncio.sleep(max(0.0, min(state.settings.ws_recheck_seconds, left + 0.05)))
        try:
            async with state.sessionmaker() as session:
                await load_actor(session, token, secret=state.secret_key)
        except AppError as exc:
            await close_quietly(websocket, CLOSE_UNAUTHENTICATED, exc.message[:120])
            return
        except (SQLAlchemyError, OSError) as exc:
            # The database is briefly away: keep the socket, ask again next time.
            log.warning("could not re-check a websocket's account (%s)", exc)


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
