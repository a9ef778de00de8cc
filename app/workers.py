"""Background work on every instance: timers that must fire exactly once across instances.

Each job claims what is due with `FOR UPDATE SKIP LOCKED` and applies the effect and its events
in the claiming transaction, so a due row is handled by exactly one instance, and rows that fell
due while every instance was down are handled by the first one up.
"""

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.models import Event, EventRetention, IdempotencyKey
from app.realtime import delivery_audit
from app.services import audit, detention_clocks, dispatch, escalations, retention

log = logging.getLogger(__name__)

PURGE_LOCK_KEY = 7_136_003
Job = Callable[[AsyncSession], Awaitable[int]]


async def purge_old_events(session: AsyncSession, *, keep: timedelta) -> int:
    """Delete events older than `keep` and remember the highest id deleted, so a client whose
    cursor is older can be told to resynchronise. One instance at a time."""
    if not await session.scalar(
        text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": PURGE_LOCK_KEY}
    ):
        return 0
    through = await session.scalar(select(func.max(Event.id)).where(Event.at < func.now() - keep))
    if through is None:
        return 0
    deleted = await session.execute(delete(Event).where(Event.id <= through))
    await session.execute(
        update(EventRetention)
        .where(EventRetention.id == 1)
        .values(purged_through=func.greatest(EventRetention.purged_through, through))
    )
    # Idempotency keys only need to outlive client retries.
    await session.execute(
        delete(IdempotencyKey).where(IdempotencyKey.created_at < func.now() - timedelta(days=7))
    )
    return deleted.rowcount or 0


class Workers:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        interval: float,
        event_retention: timedelta,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.interval = interval
        self.jobs: list[tuple[str, Job, float]] = [
            ("offer-expiry", lambda s: dispatch.expire_due_offers(session=s), interval),
            ("clocks", lambda s: detention_clocks.fire_due_clocks(session=s), interval),
            ("waiting-incidents", lambda s: dispatch.offer_waiting(session=s), interval),
            ("stale-jobs", lambda s: dispatch.escalate_stale_jobs(session=s), interval),
            ("overdue-handoffs", lambda s: dispatch.escalate_overdue_handoffs(session=s), interval),
            ("escalation-repeats", lambda s: escalations.announce_due(session=s), interval),
            ("event-purge", lambda s: purge_old_events(s, keep=event_retention), 300.0),
            # This instance's sockets: summaries delivered, one audit row per account a second.
            ("summary-audit", delivery_audit.flush, 1.0),
            ("retention", lambda s: retention.pseudonymise_due(session=s), 300.0),
        ]
        self._tasks: list[asyncio.Task[None]] = []

    def add(self, name: str, job: Job, every: float | None = None) -> None:
        self.jobs.append((name, job, every or self.interval))

    async def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._loop(name, job, every), name=name)
            for name, job, every in self.jobs
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        # What was delivered since the last flush is still audited on the way out.
        with contextlib.suppress(Exception):
            await self.run_once("summary-audit")
        await audit.dispose_side_engines()

    async def run_once(self, name: str) -> int:
        job = next(job for job_name, job, _ in self.jobs if job_name == name)
        async with self.sessionmaker() as session, session.begin():
            return await job(session)

    async def _loop(self, name: str, job: Job, every: float) -> None:
        while True:
            try:
                # Keep going while there is a backlog (e.g. after downtime), then rest.
                while await self.run_once(name):
                    pass
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("background job %s failed; retrying", name)
            await asyncio.sleep(every)
