"""The handover board: every handover clock with its place, unit and state."""

from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app import clocks
from app.auth.actor import Actor
from app.database import db_now
from app.errors import Unprocessable
from app.models import Clock, Detention, PlaceOfSafety
from app.schemas.detention import HandoverOut
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
