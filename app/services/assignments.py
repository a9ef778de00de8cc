"""Reading assignments for the API, and whether a unit may read an incident (need to know)."""

from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app import need_to_know
from app.auth.actor import Actor
from app.database import db_now
from app.dispatch import priority
from app.dispatch.transitions import ACTIVE
from app.errors import NotFound
from app.models import Area, Assignment, Incident, Unit, User
from app.realtime import events
from app.schemas.assignment import AssignmentOut
from app.services import audit


def out(assignment: Assignment, unit: Unit, offered_by: str | None, *, role: str) -> AssignmentOut:
    """`role`: the viewer's; the nurse's advice is left out for those without need to know."""
    advice_shown = need_to_know.sees_advice(role)
    return AssignmentOut(
        id=assignment.id,
        incident_id=assignment.incident_id,
        unit=unit.callsign,
        unit_kind=unit.kind,
        status=assignment.status,
        offered_at=assignment.offered_at,
        expires_at=assignment.expires_at,
        responded_at=assignment.responded_at,
        decline_reason=assignment.decline_reason,
        advice=assignment.advice if advice_shown else None,
        s136_used=assignment.s136_used if advice_shown else None,
        advice_at=assignment.advice_at,
        offered_by=offered_by or "auto",
    )


def _query():
    return (
        select(Assignment, Unit, User.username)
        .join(Unit, Unit.id == Assignment.unit_id)
        .outerjoin(User, User.id == Assignment.offered_by_id)
        .order_by(Assignment.id)
    )


async def get_out(assignment_id: int, *, session: AsyncSession, actor: Actor) -> AssignmentOut:
    row = (await session.execute(_query().where(Assignment.id == assignment_id))).first()
    if row is None:
        raise NotFound(f"Assignment {assignment_id}")
    return out(*row, role=actor.role)


async def list_visible(
    *, session: AsyncSession, actor: Actor, active_only: bool
) -> list[AssignmentOut]:
    """The unit's assignments (a supervisor: the area's). Active ones carry the incident's
    need-to-know summary, the same the offer event carries; each summary shown is audited."""
    query = _query().where(Unit.area_id == actor.area_id)
    if actor.role != "supervisor":
        query = query.where(Unit.callsign == actor.unit_callsign)
    if active_only:
        query = query.where(Assignment.status.in_(ACTIVE))
    rows = (await session.execute(query)).all()
    active_ids = {a.incident_id for a, _unit, _by in rows if a.status in ACTIVE}
    incidents = {
        i.id: i for i in await session.scalars(select(Incident).where(Incident.id.in_(active_ids)))
    }
    result = []
    for assignment, unit, offered_by in rows:
        item = out(assignment, unit, offered_by, role=actor.role)
        incident = incidents.get(assignment.incident_id) if assignment.status in ACTIVE else None
        if incident is not None:
            item.incident = events.incident_summary(incident, unit.kind)
            item.urgent = incident.effective_outcome in priority.URGENT_OUTCOMES
        result.append(item)
    for incident_id in sorted(active_ids):
        audit.record(
            session=session,
            actor=actor,
            action="incident.summary_read",
            subject_type="incident",
            subject_id=incident_id,
        )
    return result


async def access_window(area_id: int, *, session: AsyncSession) -> timedelta:
    """How long after clearing a unit keeps access: the area's `crew_access_hours`."""
    hours = await session.scalar(select(Area.crew_access_hours).where(Area.id == area_id))
    return timedelta(hours=hours or 0)


async def unit_jobs(
    callsign: str | None, incident_ids: set[int], *, session: AsyncSession
) -> dict[int, list[need_to_know.Job]]:
    """This unit's assignments on these incidents, by incident, as the need-to-know rules take
    them (app/need_to_know.py)."""
    jobs: dict[int, list[need_to_know.Job]] = defaultdict(list)
    if callsign is None or not incident_ids:
        return jobs
    for incident_id, status, changed_at in await session.execute(
        select(Assignment.incident_id, Assignment.status, Assignment.updated_at)
        .join(Unit, Unit.id == Assignment.unit_id)
        .where(Unit.callsign == callsign, Assignment.incident_id.in_(incident_ids))
    ):
        jobs[incident_id].append(need_to_know.Job(status, changed_at))
    return jobs


async def unit_may_see(
    incident_id: int,
    callsign: str | None,
    *,
    session: AsyncSession,
    now: datetime,
    access: timedelta,
) -> bool:
    """Whether this unit may read the incident's person data: it has the job, or cleared it
    less than `access` (the area's `crew_access_hours`) ago."""
    jobs = await unit_jobs(callsign, {incident_id}, session=session)
    return need_to_know.unit_may_see(jobs[incident_id], now=now, access=access)


async def summaries_still_for(
    callsign: str | None, area_id: int, incident_ids: set[int], *, session: AsyncSession
) -> set[int]:
    """Of these incidents, those whose summary may still be sent to this unit (a replay after a
    reconnect): its offer or job is live, or it cleared it less than the area's
    `crew_access_hours` ago."""
    jobs = await unit_jobs(callsign, incident_ids, session=session)
    if not jobs:
        return set()
    now = await db_now(session)
    access = await access_window(area_id, session=session)
    return {
        incident_id
        for incident_id, of_incident in jobs.items()
        if need_to_know.unit_may_be_sent_summary(of_incident, now=now, access=access)
    }
