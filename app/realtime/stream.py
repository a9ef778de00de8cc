"""One websocket subscriber: replay from `after`, then live, with no gap and no duplicate.

Order of work: subscribe to the hub first (live events from then on are queued), then replay
from the table every visible event with id > after, then send queued events, skipping any id
already sent. Every event id at or below the hub's position at subscription time was committed
before it, so replay finds it; every later one reaches the queue. A database session is held only
for each replay page or command, never for the life of the socket.

What a client may send is bounded: frames of at most 64 KiB (uvicorn's `ws_max_size`, closed with
1009), and at most `MESSAGE_RATE` messages a second in bursts of `MESSAGE_BURST` (a token bucket
per socket; past it the socket is closed with 1008). A tablet pings every few seconds and sends a
command when a person taps: far below either.
"""

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.websockets import WebSocket, WebSocketDisconnect

from app.log_policy import describe_exception, safe_traceback
from app.models.event import Event, EventRetention
from app.realtime.audience import Viewer, sees_restricted, sql_filter, summary_of
from app.realtime.delivery_audit import deliveries
from app.realtime.hub import OVERFLOW, Hub, Subscription
from app.realtime.rate import TokenBucket
from app.realtime.wire import control, render
from app.services import assignments

log = logging.getLogger(__name__)

REPLAY_PAGE = 500
SEND_TIMEOUT = 10.0

CLOSE_TOO_SLOW = 4008
CLOSE_POLICY_VIOLATION = 1008
MESSAGE_RATE = 10.0  # messages a second, on average
MESSAGE_BURST = 20
CommandHandler = Callable[[Viewer, dict[str, Any]], Awaitable[str]]


class SubscriberStream:
    def __init__(
        self,
        websocket: WebSocket,
        viewer: Viewer,
        *,
        hub: Hub,
        sessionmaker: async_sessionmaker[AsyncSession],
        on_command: CommandHandler,
        send_timeout: float = SEND_TIMEOUT,
        guard: Callable[[], Awaitable[None]] | None = None,
        message_rate: float = MESSAGE_RATE,
        message_burst: int = MESSAGE_BURST,
    ) -> None:
        self.websocket = websocket
        self.viewer = viewer
        self.hub = hub
        self.sessionmaker = sessionmaker
        self.on_command = on_command
        self.send_timeout = send_timeout
        # Returns (having closed the socket) when the connection may no longer stay open.
        self.guard = guard
        self.last_sent = 0
        self._send_lock = asyncio.Lock()
        self._bucket = TokenBucket(rate=message_rate, burst=message_burst)

    async def run(self, after: int | None) -> None:
        subscription = self.hub.subscribe(self.viewer)
        tasks: list[asyncio.Task[None]] = []
        try:
            self.last_sent = subscription.start_after
            if after is not None:
                await self._replay(after)
            # From here every event this viewer may see reaches the socket: a client that
            # loads its state over REST now (or resumed with `after`) misses nothing.
            await self.send(control("ready", after=self.last_sent))
            tasks = [
                asyncio.create_task(self._forward(subscription)),
                asyncio.create_task(self._receive()),
            ]
            if self.guard is not None:
                tasks.append(asyncio.create_task(self.guard()))
            # Whichever ends first (client gone, too slow, send timed out, signed out) ends the
            # others.
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        except (WebSocketDisconnect, ConnectionError, TimeoutError):
            pass
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            self.hub.unsubscribe(subscription)

    async def send(self, message: str) -> None:
        async with self._send_lock:
            await asyncio.wait_for(self.websocket.send_text(message), self.send_timeout)

    async def _replay(self, after: int) -> None:
        async with self.sessionmaker() as session:
            purged_through = await session.scalar(select(EventRetention.purged_through)) or 0
        if after < purged_through:
            # Events after the cursor are gone: the client must reload current state.
            await self.send(
                control("resync", reason="cursor_too_old", oldest_retained_after=purged_through)
            )
            return
        cursor = after
        while True:
            async with self.sessionmaker() as session:
                rows = (
                    (
                        await session.execute(
                            select(Event.__table__)
                            .where(Event.id > cursor, sql_filter(self.viewer))
                            .order_by(Event.id)
                            .limit(REPLAY_PAGE)
                        )
                    )
                    .mappings()
                    .all()
                )
                still_shown = await self._summaries_still_shown(rows, session)
            for row in rows:
                full, public = render(row)
                restricted = sees_restricted(self.viewer, row["unit_callsign"]) and (
                    still_shown is None or summary_of(row["restricted"]) in still_shown
                )
                await self.send(full if restricted else public)
                if restricted and (incident_id := summary_of(row["restricted"])) is not None:
                    deliveries.note(self.viewer, incident_id)  # audited in batches
                cursor = row["id"]
            if len(rows) < REPLAY_PAGE:
                break
        self.last_sent = max(self.last_sent, cursor)

    async def _summaries_still_shown(
        self, rows: Sequence[Any], session: AsyncSession
    ) -> set[int | None] | None:
        """Replay is of events up to a day old: a unit's old summaries go out again only while it
        may still see them (need to know); None: all (supervisors)."""
        if self.viewer.role == "supervisor":
            return None
        ids = {summary_of(r["restricted"]) for r in rows} - {None}
        allowed = await assignments.summaries_still_for(
            self.viewer.unit_callsign, self.viewer.area_id, ids, session=session
        )
        return {None, *allowed}

    async def _forward(self, subscription: Subscription) -> None:
        while True:
            item = await subscription.queue.get()
            if item is OVERFLOW:
                await self.websocket.close(
                    CLOSE_TOO_SLOW, "too slow: reconnect with after=<last event id>"
                )
                return
            event_id, message = item
            if event_id <= self.last_sent:
                continue  # already sent by replay
            await self.send(message)
            self.last_sent = event_id

    async def _receive(self) -> None:
        while True:
            message = await self.websocket.receive()
            if message["type"] == "websocket.disconnect":
                raise WebSocketDisconnect(message.get("code", 1000), message.get("reason"))
            if not self._bucket.take(time.monotonic()):
                await close_quietly(
                    self.websocket,
                    CLOSE_POLICY_VIOLATION,
                    f"too many messages: at most {self._bucket.rate:g} a second "
                    f"(bursts of {self._bucket.burst})",
                )
                return
            await self.send(await self._answer(message.get("text")))

    async def _answer(self, raw: str | None) -> str:
        """The reply to one text frame (binary frames have no meaning here)."""
        kind: Any = None
        message: Any = {}
        if raw is not None:
            try:
                message = json.loads(raw)
                kind = message.get("type") if isinstance(message, dict) else None
            except (ValueError, RecursionError):  # RecursionError: nesting too deep
                kind = None
        if kind == "ping":
            return control("pong")
        if not (isinstance(kind, str) and kind):
            return control("error", code="bad_message", message='Send JSON like {"type": "ping"}.')
        try:
            return await self.on_command(self.viewer, message)
        except Exception as exc:
            # Logged by type and place only: the command may carry person data.
            log.error(
                "websocket command failed: %s\n%s", describe_exception(exc), safe_traceback(exc)
            )
            return control(
                "error", code="internal_error", message="That command failed; nothing was saved."
            )


async def close_quietly(websocket: WebSocket, code: int, reason: str) -> None:
    with contextlib.suppress(Exception):
        await websocket.close(code, reason)
