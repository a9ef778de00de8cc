"""Every running clock of an area, for the supervisors' board (loaded on sign-in, not only from
the live replay): handover, 24-hour detention, 3-hour assessment and welfare checks."""

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app import clocks
from app.auth.actor import Actor
from app.database import db_now
from app.models import Clock, Detention, PlaceOfSafety
from app.schemas.detention import ClockBoardRow
from app.services.detention_clocks import clock_state


async def list_clocks(*, session: AsyncSession, actor: Actor, state: str) -> list[ClockBoardRow]:
    now = await db_now(session)
    query = (
        select(Clock, Detention, PlaceOfSafety.name)
        .join(Detention, Detention.id == Clock.detention_id)
        # Where the clock runs (a handover clock per place after a transfer), else the person.
        .outerjoin(
            PlaceOfSafety,
            PlaceOfSafety.id
            == func.coalesce(Clock.place_of_safety_id, Detention.place_of_safety_id),
        )
        .where(Clock.area_id == actor.area_id)
        .order_by(Clock.started_at, Clock.id)
    )
    if state == "open":
        query = query.where(Clock.stopped_at.is_(None))
    rows = []
    for clock, detention, place_name in (await session.execute(query)).all():
        st = clock_state(clock, now)
        rows.append(
            ClockBoardRow(
                incident_id=clock.incident_id,
                detention_id=detention.id,
                clock=clock.kind,
                state=st.state,
                started_at=clock.started_at,
                deadline_at=st.deadline_at,
                elapsed_minutes=st.elapsed_minutes,
                minutes_left=clocks.minutes_left(st.deadline_at, now),
                goal_minutes=clock.goal_minutes,
                warning_minutes=clock.warning_minutes,
                agreed=clock.agreed,
                stopped_at=clock.stopped_at,
                within_goal=st.within_goal,
                outcome=st.outcome,
                place_of_safety_id=clock.place_of_safety_id or detention.place_of_safety_id,
                place_of_safety=place_name,
                unit=detention.unit_callsign,
                age_band=clocks.age_band(detention.person_age),
            )
        )
    return rows
