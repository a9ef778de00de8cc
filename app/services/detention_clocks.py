"""Storing the clocks of a detention and announcing their thresholds.

The arithmetic is the pure `app.clocks` (and `app.s136` for what a stop means); this module
keeps clock rows, applies what is due and emits `<clock>.started|warning|breached|agreed|
extended|completed` events. Each threshold is announced exactly once: `clocks.fired` records it
in the transaction that emits it, and the worker claims due clocks with SKIP LOCKED (see
app/workers.py).

A breach is also raised as a `clock_breached` escalation, which stays on the supervisors' board
(announced again until someone acknowledges it) rather than passing as one message.
"""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app import clocks, s136
from app.database import db_now
from app.models import Clock, Detention, PlaceOfSafety
from app.realtime.outbox import PendingEvent, emit
from app.schemas.detention import ClockOut
from app.services import escalations

# A missed 24-hour limit or welfare check is a person held unlawfully or unchecked.
BREACH_RISK = {
    "detention": "immediate",
    "welfare_check": "immediate",
    "handover": "urgent",
    "assessment": "urgent",
}


def spec_of(clock: Clock) -> clocks.ClockSpec:
    return clocks.ClockSpec(
        kind=clock.kind,
        started_at=clock.started_at,
        goal=timedelta(minutes=clock.goal_minutes),
        warning=None if clock.warning_minutes is None else timedelta(minutes=clock.warning_minutes),
        agreed=clock.agreed,
    )


def clock_state(clock: Clock, now: datetime) -> clocks.ClockState:
    """The clock's state, where a handover clock stopped by anything but a handover (an
    outcome, a transfer) is `stopped` with outcome `not_handed_over`: never within goal."""
    state = clocks.state_at(spec_of(clock), now, clock.stopped_at)
    if (
        clock.kind == "handover"
        and clock.stopped_at is not None
        and clock.stop_reason != s136.HANDED_OVER
    ):
        return replace(state, state="stopped", within_goal=None, outcome="not_handed_over")
    return state


def clock_out(clock: Clock, now: datetime) -> ClockOut:
    state = clock_state(clock, now)
    return ClockOut(
        id=clock.id,
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
        stop_reason=clock.stop_reason,
        place_of_safety_id=clock.place_of_safety_id,
        received_by=clock.received_by,
    )


def clock_event(kind: str, clock: Clock, detention: Detention, now: datetime) -> PendingEvent:
    state = clock_state(clock, now)
    return PendingEvent(
        type=f"{clock.kind}.{kind}",
        area_id=clock.area_id,
        incident_id=clock.incident_id,
        unit_callsign=detention.unit_callsign,
        data={
            "incident_id": clock.incident_id,
            "detention_id": detention.id,
            "clock": clock.kind,
            "state": state.state,
            "started_at": clock.started_at.isoformat(),
            "deadline_at": state.deadline_at.isoformat(),
            "elapsed_minutes": state.elapsed_minutes,
            "goal_minutes": clock.goal_minutes,
            "warning_minutes": clock.warning_minutes,
            "within_goal": state.within_goal,
            "outcome": state.outcome,
            "stopped_at": clock.stopped_at.isoformat() if clock.stopped_at else None,
            "stop_reason": clock.stop_reason,
            "agreed": clock.agreed,
            "place_of_safety_id": clock.place_of_safety_id or detention.place_of_safety_id,
        },
    )


async def announce(
    clock: Clock,
    detention: Detention,
    threshold: clocks.Threshold,
    *,
    session: AsyncSession,
) -> None:
    """Announce one threshold (recording it as fired); a breach is also escalated."""
    clock.fired = [*clock.fired, threshold.name]
    emit(
        session,
        clock_event(
            "warning" if threshold.name == clocks.WARNING else "breached",
            clock,
            detention,
            threshold.at,
        ),
    )
    if threshold.name == clocks.BREACHED:
        await _escalate_breach(clock, detention, session=session)


async def advance(
    clock: Clock, detention: Detention, now: datetime, *, session: AsyncSession
) -> None:
    """Announce every threshold now due (once each, in order) and set when the next falls due."""
    spec = spec_of(clock)
    for threshold in clocks.due_thresholds(spec, now, set(clock.fired), clock.stopped_at):
        await announce(clock, detention, threshold, session=session)
    clock.next_due_at = clocks.next_due_at(spec, set(clock.fired), clock.stopped_at)


async def start(
    detention: Detention,
    kind: str,
    started_at: datetime,
    goal: timedelta,
    warning: timedelta | None,
    now: datetime,
    *,
    session: AsyncSession,
    place_of_safety_id: int | None = None,
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
        place_of_safety_id=place_of_safety_id,
    )
    session.add(clock)
    emit(session, clock_event("started", clock, detention, now))
    await advance(clock, detention, now, session=session)
    return clock


async def retarget(
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
    await advance(clock, detention, now, session=session)


async def stop(
    clock: Clock,
    detention: Detention,
    at: datetime,
    now: datetime,
    *,
    reason: str,
    session: AsyncSession,
    received_by: str | None = None,
) -> None:
    """Stop a running clock at `at`, saying why (`handed_over`, `transferred`, `ended`,
    `assessed`): only `handed_over` makes a handover clock a handover."""
    if clock.stopped_at is not None:
        return
    clock.stopped_at = at
    clock.stop_reason = reason
    if received_by is not None:
        clock.received_by = received_by
    await advance(clock, detention, now, session=session)  # crossings before `at`, entered late
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
        await advance(clock, detention, now, session=session)
    await session.flush()
    return len(due)


async def _escalate_breach(clock: Clock, detention: Detention, *, session: AsyncSession) -> None:
    """A breach is owned until a supervisor acknowledges it. One escalation per clock and
    start: a welfare clock restarted by a check and missed again is a new one."""
    if clock.id is None:
        await session.flush()  # the key names the clock
    place_id = clock.place_of_safety_id or detention.place_of_safety_id
    place = await session.get(PlaceOfSafety, place_id) if place_id is not None else None
    started = clock.started_at.astimezone(UTC).isoformat()
    await escalations.raise_escalation(
        session=session,
        area_id=clock.area_id,
        incident_id=clock.incident_id,
        reason="clock_breached",
        risk=BREACH_RISK[clock.kind],
        detail=breach_detail(clock, place.name if place else None),
        dedupe_key=f"clock_breached:{clock.id}:{started}",
    )


def breach_detail(clock: Clock, place_name: str | None) -> str:
    """What a supervisor reads on the board: which clock, where, which incident (no person
    data)."""
    where = f" at {place_name}" if place_name else ""
    incident = f"(incident {clock.incident_id})"
    if clock.kind == "handover":
        return f"Handover{where} {incident} passed its {clock.goal_minutes}-minute goal"
    if clock.kind == "assessment":
        return f"Assessment{where} {incident} not begun within {_span(clock.goal_minutes)}"
    if clock.kind == "welfare_check":
        return f"Welfare check{where} {incident} overdue: none for {_span(clock.goal_minutes)}"
    return f"Detention {incident} passed its {clock.goal_minutes // 60}-hour limit"


def _span(minutes: int) -> str:
    if minutes % 60 == 0 and minutes >= 60:
        hours = minutes // 60
        return f"{hours} hour" if hours == 1 else f"{hours} hours"
    return f"{minutes} minutes"
