"""Crew presence: which units have a crew member connected, shared by every instance.

Each instance keeps one `unit_presence` row per unit with a socket open on it, renewed every
`interval` seconds; dispatch offers work only to units renewed within the presence window
(app/services/dispatch.py). A socket that closes removes its row at once when it was the unit's
last on this instance; an instance that dies stops renewing, and its rows lapse within the
window. The rows live in a table of their own so that renewing them never locks unit rows.
"""

import asyncio
import contextlib
import logging
from collections import Counter

from sqlalchemy import TextClause, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

log = logging.getLogger(__name__)

_RENEW = text(
    "INSERT INTO unit_presence (unit_id, instance, seen_at)"
    " SELECT id, :instance, now() FROM units WHERE callsign = ANY(:callsigns)"
    " ON CONFLICT (unit_id, instance) DO UPDATE SET seen_at = excluded.seen_at"
)
_FORGET_OTHERS = text(
    "DELETE FROM unit_presence WHERE instance = :instance AND unit_id NOT IN"
    " (SELECT id FROM units WHERE callsign = ANY(:callsigns))"
)
_FORGET = text(
    "DELETE FROM unit_presence WHERE instance = :instance AND unit_id IN"
    " (SELECT id FROM units WHERE callsign = ANY(:callsigns))"
)


class Presence:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        instance: str,
        *,
        interval: float = 10.0,
    ) -> None:
        self.sessionmaker = sessionmaker
        # Open sockets per unit callsign on this instance (crew and nurse desk accounts).
        self._sockets: Counter[str] = Counter()
        self.instance = instance
        self.interval = interval
        self._task: asyncio.Task[None] | None = None
        self._failing = False

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="presence")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        # Leaving: other instances must not offer work on this instance's sockets any longer.
        await self._execute([], _FORGET_OTHERS)

    def connected(self) -> set[str]:
        return set(+self._sockets)

    async def joined(self, callsign: str) -> None:
        """A crew member's socket opened: the unit can take offers from now on."""
        self._sockets[callsign] += 1
        await self._execute([callsign], _RENEW)

    async def left(self, callsign: str) -> None:
        """A socket closed: if it was the unit's last here, stop counting it at once."""
        self._sockets[callsign] -= 1
        if self._sockets[callsign] <= 0:
            del self._sockets[callsign]
            await self._execute([callsign], _FORGET)

    async def beat(self) -> None:
        await self._execute(sorted(self.connected()), _RENEW, _FORGET_OTHERS)

    async def _run(self) -> None:
        while True:
            await self.beat()
            await asyncio.sleep(self.interval)

    async def _execute(self, callsigns: list[str], *statements: TextClause) -> None:
        try:
            async with self.sessionmaker() as session, session.begin():
                for statement in statements:
                    await session.execute(
                        statement, {"instance": self.instance, "callsigns": callsigns}
                    )
            if self._failing:
                log.info("crew presence is being recorded again")
            self._failing = False
        except Exception as exc:  # the database may be briefly away; the next beat catches up
            if not self._failing:
                log.warning("could not record crew presence (%s); retrying", type(exc).__name__)
            self._failing = True
