"""A clock breach is an escalation: a supervisor owns it until they acknowledge it.

The clocks announce their thresholds as events (app/services/detention_clocks.py). This worker
job raises one `clock_breached` escalation for each breach announced, whether it fell due while
the clock ran (the clocks job) or was found when a time was entered late (arrival or handover
recorded afterwards). The escalation outlives the clock: a person handed over late is still a
breach someone must own, so it stays open (and is announced again) until acknowledged.

It runs as its own job, reading what the clocks have announced, so every path that can announce
a breach is covered without each of them having to remember to raise it.
"""

from datetime import timedelta

from sqlalchemy import any_, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.database import db_now
from app.models import Clock, Detention, Escalation, PlaceOfSafety
from app.services.escalations import raise_escalation

REASON = "clock_breached"
# How the breach of each clock ranks among escalations. A missed welfare check is a person in
# a cell nobody has looked at: risk to life. The others are the law's or the goal's limits.
BREACH_RISK = {
    "welfare_check": "immediate",
    "detention": "urgent",
    "assessment": "urgent",
    "handover": "urgent",
}
CLOCK_NAMES = {
    "handover": "Handover",
    "detention": "Detention",
    "assessment": "Assessment",
    "welfare_check": "Welfare check",
}
# Longer than any clock runs (24 hours, 36 with an extension), so a breach is found however it
# was announced, while history is left alone.
LOOKBACK = timedelta(hours=48)


def dedupe_key(clock_id: int, goal_minutes: int) -> str:
    """One escalation per clock and goal: an extended detention that breaches again is new."""
    return f"{REASON}:{clock_id}:{goal_minutes}"


def _limit(goal_minutes: int) -> str:
    if goal_minutes >= 120 and goal_minutes % 60 == 0:
        return f"{goal_minutes // 60}-hour"
    return f"{goal_minutes}-minute"


def breach_detail(
    kind: str, goal_minutes: int, agreed: bool, place: str | None, unit: str | None
) -> str:
    """What the supervisor reads: which limit passed, where, which unit. Never person data."""
    limit = f"agreed {goal_minutes}-minute" if agreed else _limit(goal_minutes)
    where = f" at {place}" if place else ""
    by = f" (unit {unit})" if unit else ""
    return f"{CLOCK_NAMES.get(kind, kind)} {limit} limit passed{where}{by}."


async def escalate_breaches(*, session: AsyncSession, limit: int = 50) -> int:
    """Worker job: raise a `clock_breached` escalation for each announced breach that has none.
    Two instances finding the same breach make one escalation (the open dedupe key)."""
    now = await db_now(session)
    key = func.concat(f"{REASON}:", Clock.id, ":", Clock.goal_minutes)
    raised = exists().where(Escalation.area_id == Clock.area_id, Escalation.dedupe_key == key)
    place_id = func.coalesce(Clock.place_of_safety_id, Detention.place_of_safety_id)
    rows = (
        await session.execute(
            select(Clock, Detention.unit_callsign, PlaceOfSafety.name)
            .join(Detention, Detention.id == Clock.detention_id)
            .outerjoin(PlaceOfSafety, PlaceOfSafety.id == place_id)
            .where(any_(Clock.fired) == "breached", Clock.started_at >= now - LOOKBACK, ~raised)
            .order_by(Clock.id)
            .limit(limit)
        )
    ).all()
    raised_now = 0
    for clock, unit, place in rows:
        escalation = await raise_escalation(
            session=session,
            area_id=clock.area_id,
            incident_id=clock.incident_id,
            reason=REASON,
            risk=BREACH_RISK.get(clock.kind, "urgent"),
            detail=breach_detail(clock.kind, clock.goal_minutes, clock.agreed, place, unit),
            dedupe_key=dedupe_key(clock.id, clock.goal_minutes),
        )
        raised_now += escalation is not None
    await session.flush()
    # Only what was raised: the worker loops while a job reports work done.
    return raised_now
