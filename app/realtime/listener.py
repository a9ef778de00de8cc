"""One listener per instance: LISTEN is the doorbell, the events table is the truth.

A dedicated asyncpg connection (a pooled one would lose its LISTEN when returned) waits for
NOTIFY on the events channel, with a short poll as the fallback, because notifications sent while
the connection was down are gone. Either way it reads `id > last_seen` in id order, which the
outbox makes gap-free, and hands the rows to the hub. A broken connection is replaced with backoff;
the cursor makes the catch-up exact.

The same connection listens on `triage_auth` (a session revoked, an account changed) and passes
each notification to the AuthWatch, which wakes the sockets concerned; on every (re)connect all
sockets re-check, since the notifications sent meanwhile are gone.
"""

import asyncio
import contextlib
import json
import logging
import time
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url

from app.auth.watch import CHANNEL as AUTH_CHANNEL
from app.auth.watch import AuthWatch
from app.realtime.hub import Hub
from app.realtime.outbox import CHANNEL
from app.realtime.wire import envelope

log = logging.getLogger(__name__)

BATCH = 1000
_SELECT = (
    "SELECT id, type, at, area_id, unit_callsign, audience, data, restricted"
    " FROM events WHERE id > $1 ORDER BY id LIMIT $2"
)


def asyncpg_dsn(sqlalchemy_url: str) -> str:
    return (
        make_url(sqlalchemy_url).set(drivername="postgresql").render_as_string(hide_password=False)
    )


class EventListener:
    def __init__(
        self,
        database_url: str,
        hub: Hub,
        *,
        poll_interval: float = 1.0,
        auth_watch: AuthWatch | None = None,
    ) -> None:
        self.dsn = asyncpg_dsn(database_url)
        self.hub = hub
        self.auth_watch = auth_watch or AuthWatch()
        self.poll_interval = poll_interval
        self.connected = False
        self.last_read_at = 0.0
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        connection = await self._connect()
        try:
            # Live streaming starts from now; older events reach a client only through replay.
            self.hub.last_seen = await connection.fetchval(
                "SELECT coalesce(max(id), 0) FROM events"
            )
        finally:
            await connection.close()
        self._task = asyncio.create_task(self._run(), name="event-listener")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _connect(self) -> asyncpg.Connection:
        connection = await asyncpg.connect(
            self.dsn,
            timeout=5,
            command_timeout=10,
            server_settings={
                "application_name": "street-triage-listener",
                # Let the server notice a vanished client; our poll notices a vanished server.
                "tcp_keepalives_idle": "30",
                "tcp_keepalives_interval": "10",
                "tcp_keepalives_count": "3",
            },
        )
        await connection.set_type_codec(
            "jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog"
        )
        return connection

    def _on_notify(self, *_: Any) -> None:
        self._wake.set()

    def _on_auth_notify(self, _connection: Any, _pid: int, _channel: str, payload: str) -> None:
        self.auth_watch.announce(payload)

    async def _run(self) -> None:
        backoff = 0.2
        while True:
            connection: asyncpg.Connection | None = None
            try:
                connection = await self._connect()
                await connection.add_listener(CHANNEL, self._on_notify)
                await connection.add_listener(AUTH_CHANNEL, self._on_auth_notify)
                self.auth_watch.wake_all()
                self.connected = True
                backoff = 0.2
                while True:
                    await self._drain(connection)
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), self.poll_interval)
                    self._wake.clear()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("event listener lost its connection (%s); reconnecting", exc)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
            finally:
                self.connected = False
                if connection is not None:
                    with contextlib.suppress(Exception):
                        await asyncio.wait_for(connection.close(), 2)

    async def _drain(self, connection: asyncpg.Connection) -> None:
        while True:
            rows = await connection.fetch(_SELECT, self.hub.last_seen, BATCH)
            self.last_read_at = time.monotonic()
            if not rows:
                return
            self.hub.publish(envelope(row) for row in rows)
            if len(rows) < BATCH:
                return
