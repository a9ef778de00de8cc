"""Event ids become visible in id order, even with many concurrent writers, so a reader that
polls `id > cursor` never skips an event that commits late."""

import asyncio
import random

import pytest
from sqlalchemy import event as orm_event
from sqlalchemy import select, text

from app.database import create_engine, create_sessionmaker
from app.models import Event
from app.realtime.outbox import PendingEvent, emit


async def test_cursor_reader_never_skips_with_concurrent_writers(live_database):
    engine = create_engine(live_database, pool_size=12)
    sessionmaker = create_sessionmaker(engine)
    done = asyncio.Event()

    async def writer(n: int) -> None:
        for i in range(15):
            async with sessionmaker() as session:
                # Stall between writing the events and committing, as a busy server might:
                # without the outbox's lock, a later id could commit before an earlier one.
                @orm_event.listens_for(session.sync_session, "before_commit")
                def stall(sync_session):
                    sync_session.execute(text("SELECT pg_sleep(:s)"), {"s": random.random() / 100})

                await session.execute(text("SELECT 1"))  # the change the events describe
                for _ in range(random.randint(1, 3)):
                    emit(session, PendingEvent(type="test.event", area_id=1, data={"w": n, "i": i}))
                await session.commit()

    seen: list[int] = []

    async def reader() -> None:
        cursor = 0
        async with engine.connect() as connection:
            while True:
                finished = done.is_set()
                rows = await connection.execute(
                    select(Event.id).where(Event.id > cursor).order_by(Event.id)
                )
                ids = list(rows.scalars())
                await connection.commit()
                seen.extend(ids)
                cursor = ids[-1] if ids else cursor
                if finished:
                    return
                await asyncio.sleep(0.001)

    reading = asyncio.create_task(reader())
    await asyncio.gather(*[writer(n) for n in range(8)])
    done.set()
    await reading
    async with sessionmaker() as session:
        stored = list(await session.scalars(select(Event.id).order_by(Event.id)))
    await engine.dispose()
    assert len(stored) >= 8 * 15
    assert seen == stored


async def test_rolled_back_events_are_never_written(live_database):
    engine = create_engine(live_database, pool_size=2)
    sessionmaker = create_sessionmaker(engine)
    async with sessionmaker() as session:
        await session.execute(text("SELECT 1"))
        emit(session, PendingEvent(type="test.gone", area_id=1, data={}))
        await session.rollback()
        await session.execute(text("SELECT 1"))
        await session.commit()
        count = await session.scalar(select(Event.id).where(Event.type == "test.gone"))
        with pytest.raises(RuntimeError, match="outside a transaction"):
            await session.commit()
            emit(session, PendingEvent(type="test.gone", area_id=1, data={}))
    await engine.dispose()
    assert count is None
