"""Storing the clocks of a detention and announcing their thresholds.

The arithmetic is the pure `app.clocks`; this module keeps clock rows, applies what is due and
emits `<clock>.started|warning|breached|agreed|extended|completed` events. Each threshold is
announced exactly once: `clocks.fired` records it in the transaction that emits it, and the
worker claims due clocks with SKIP LOCKED (see app/workers.py).
"""

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app import clocks
from app.database import db_now
from app.models import Clock, Detention
from app.realtime.outbox import PendingEvent, emit
from app.schemas.detention import ClockOut


def spec_of(clock: Clock) -> clocks.ClockSpec:
    return clocks.ClockSpec(
        kind=clock.kind,
        started_at=clock.started_at,
        goal=timedelta(minutes=clock.goal_minutes),
        warning=None if clock.warning_minutes is None else timedelta(minutes=clock.warning_minutes),
        agreed=clock.agreed,
    )


def clock_out(clock: Clock, now: datetime) -> ClockOut:
    state = clocks.state_at(spec_of(clock), now, clock.stopped_at)
    return ClockOut(
        kind=clock.kind,
        state=state.state,
        started_at=clock.started_at,
        deadline_at=state.deadline_at,
        elapsed_minutes=state.elapsed_minutes,
        goal_minutes=clock.goal_minutes,
        warning_minutes=clock.warning_minutes,
        agreed=clock.agreed,
        stopped_at=clock.stopped_at,
        within_goal=state.within_goal,
        outcome=state.outcome,
    )


def clock_event(kind: str, clock: Clock, detention: Detention, now: datetime) -> PendingEvent:
    out = clock_out(clock, now)
    return PendingEvent(
        type=f"{clock.kind}.{kind}",
        area_id=clock.area_id,
        incident_id=clock.incident_id,
        unit_callsign=detention.unit_callsign,
        data={
            "incident_id": clock.incident_id,
            "detention_id": detention.id,
            "clock": clock.kind,
            "state": out.state,
            "started_at": out.started_at.isoformat(),
            "deadline_at": out.deadline_at.isoformat(),
            "elapsed_minutes": out.elapsed_minutes,
            "goal_minutes": clock.goal_minutes,
            "warning_minutes": clock.warning_minutes,
            "within_goal": out.within_goal,
            "outcome": out.outcome,
            "stopped_at": clock.stopped_at.isoformat() if clock.stopped_at else None,
            "agreed": clock.agreed,
            "place_of_safety_id": detention.place_of_safety_id,
        },
    )


def advance(clock: Clock, detention: Detention, now: datetime, *, session: AsyncSession) -> None:
    """Announce every threshold now due (once each, in order) and set when the next falls due."""
    spec = spec_of(clock)
    for threshold in clocks.due_thresholds(spec, now, set(clock.fired), clock.stopped_at):
        clock.fired = [*clock.fired, threshold.name]
        emit(
            session,
            clock_event(
                "warning" if threshold.name == "warning" else "breached",
                clock,
                detention,
                threshold.at,
            ),
        )
    clock.next_due_at = clocks.next_due_at(spec, set(clock.fired), clock.stopped_at)


def start(
    detention: Detention,
    kind: str,
    started_at: datetime,
    goal: timedelta,
    warning: timedelta | None,
    now: datetime,
    *,
    session: AsyncSession,
) -> Clock:
    clock = Clock(
        detention_id=detention.id,
        incident_id=detention.incident_id,
        area_id=detention.area_id,
        kind=kind,
        started_at=started_at,
        goal_minutes=int(goal.total_seconds() // 60),
        warning_minutes=None if warning is None else int(warning.total_seconds() // 60),
        agreed=False,
        fired=[],
    )
    session.add(clock)
    emit(session, clock_event("started", clock, detention, now))
    advance(clock, detention, now, session=session)
    return clock


def retarget(
    clock: Clock,
    detention: Detention,
    spec: clocks.ClockSpec,
    now: datetime,
    *,
    session: AsyncSession,
) -> None:
    """The goal changed (an agreed handover, a detention extension). Crossings already
    announced stay announced; those the new goal moves ahead will be announced afresh."""
    clock.goal_minutes = spec.goal_minutes
    clock.warning_minutes = spec.warning_minutes
    clock.agreed = spec.agreed
    clock.fired = sorted(clocks.fired_after_change(spec, set(clock.fired), now))
    advance(clock, detention, now, session=session)


def stop(
    clock: Clock, detention: Detention, at: datetime, now: datetime, *, session: AsyncSession
) -> None:
    if clock.stopped_at is not None:
        return
    clock.stopped_at = at
    advance(clock, detention, now, session=session)  # crossings before `at`, entered late
    emit(session, clock_event("completed", clock, detention, now))


async def fire_due_clocks(*, session: AsyncSession, limit: int = 50) -> int:
    """Worker job: announce thresholds that have fallen due. Claimed with SKIP LOCKED, so each
    clock is advanced by one instance, and clocks due while every instance was down are
    advanced by the first one up."""
    due = list(
        await session.scalars(
            select(Clock)
            .where(Clock.next_due_at <= func.now())
            .order_by(Clock.next_due_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )
    if not due:
        return 0
    now = await db_now(session)
    for clock in due:
        detention = await session.get_one(Detention, clock.detention_id)
        advance(clock, detention, now, session=session)
    await session.flush()
    return len(due)
