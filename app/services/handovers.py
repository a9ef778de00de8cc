"""The handover board: every handover clock with its place, unit and state.

Need to know (app/need_to_know.py): supervisors see their area's; a crew only its own unit's
detentions (while it may read them); the nurse desk only those of incidents it was consulted on.
Call handlers are not given the board (the router refuses them): a detention is not theirs.
"""

from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app import clocks, need_to_know
from app.auth.actor import Actor
from app.database import db_now
from app.errors import Unprocessable
from app.models import Clock, Detention, PlaceOfSafety
from app.schemas.detention import HandoverOut
from app.services import assignments, audit
from app.services.detention_clocks import clock_state

STATES = ("open", "handed_over", "all")


def period(from_: date | datetime | None, to: date | datetime | None, now: datetime):
    try:
        return clocks.parse_period(from_, to, now)
    except clocks.ClockError as exc:
        raise Unprocessable(exc.code, str(exc), exc.field) from exc


async def list_handovers(
    *,
    session: AsyncSession,
    actor: Actor,
    state: str,
    from_: date | datetime | None,
    to: date | datetime | None,
) -> list[HandoverOut]:
    now = await db_now(session)
    query = (
        select(Clock, Detention, PlaceOfSafety)
        .join(Detention, Detention.id == Clock.detention_id)
        # The place the clock ran at (after a transfer, each handover clock has its own).
        .outerjoin(
            PlaceOfSafety,
            PlaceOfSafety.id
            == func.coalesce(Clock.place_of_safety_id, Detention.place_of_safety_id),
        )
        .where(Clock.kind == "handover", Clock.area_id == actor.area_id)
        .order_by(Clock.started_at)
    )
    if state == "open":
        query = query.where(Clock.stopped_at.is_(None))
    elif state == "handed_over":
        # An outcome or a transfer stops a handover clock without a handover.
        query = query.where(Clock.stopped_at.is_not(None), Clock.stop_reason == "handed_over")
    if from_ is not None or to is not None or state != "open":
        start, end = period(from_, to, now)
        query = query.where(Clock.started_at >= start, Clock.started_at < end)
    rows = (await session.execute(query)).all()
    if actor.role != "supervisor":
        rows = await _visible(rows, session=session, actor=actor, now=now)
    if rows:
        audit.record(
            session=session,
            actor=actor,
            action="handover.list",
            subject_type="incident",
            detail={"incident_ids": sorted({clock.incident_id for clock, _d, _p in rows})},
        )
    result = []
    for clock, detention, place in rows:
        st = clock_state(clock, now)
        result.append(
            HandoverOut(
                incident_id=clock.incident_id,
                detention_id=detention.id,
                place_of_safety=place.name if place else None,
                place_of_safety_id=place.id if place else detention.place_of_safety_id,
                place_of_safety_type=place.type if place else detention.place_type,
                unit=detention.unit_callsign,
                arrived_at=clock.started_at,
                deadline_at=st.deadline_at,
                elapsed_minutes=st.elapsed_minutes,
                goal_minutes=clock.goal_minutes,
                warning_minutes=clock.warning_minutes,
                state=st.state,
                within_goal=st.within_goal,
                agreed=clock.agreed,
                handed_over_at=clock.stopped_at,
            )
        )
    return result


async def _visible(rows: list, *, session: AsyncSession, actor: Actor, now: datetime) -> list:
    """The rows a crew or the nurse desk may see (supervisors see all)."""
    access = await assignments.access_window(actor.area_id, session=session)
    if actor.role == "crew":
        return [
            (clock, detention, place)
            for clock, detention, place in rows
            if need_to_know.crew_may_see_detention(
                need_to_know.DetentionFacts(detention.unit_callsign, detention.ended_at),
                actor.unit_callsign,
                now=now,
                access=access,
            )
        ]
    if actor.role == "nurse":
        jobs = await assignments.unit_jobs(
            actor.unit_callsign, {clock.incident_id for clock, _d, _p in rows}, session=session
        )
        return [
            row
            for row in rows
            if need_to_know.unit_may_see(jobs[row[0].incident_id], now=now, access=access)
        ]
    return []
