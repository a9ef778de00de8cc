"""Reading assignments for the API."""

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.actor import Actor
from app.dispatch.transitions import ACTIVE
from app.errors import NotFound
from app.models import Assignment, Incident, Unit, User
from app.realtime import events
from app.schemas.assignment import AssignmentOut
from app.services import audit


def out(assignment: Assignment, unit: Unit, offered_by: str | None) -> AssignmentOut:
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
        advice=assignment.advice,
        s136_used=assignment.s136_used,
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


async def get_out(assignment_id: int, *, session: AsyncSession) -> AssignmentOut:
    row = (await session.execute(_query().where(Assignment.id == assignment_id))).first()
    if row is None:
        raise NotFound(f"Assignment {assignment_id}")
    return out(*row)


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
        item = out(assignment, unit, offered_by)
        incident = incidents.get(assignment.incident_id) if assignment.status in ACTIVE else None
        if incident is not None:
            item.incident = events.incident_summary(incident, unit.kind)
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


async def unit_has_taken(incident_id: int, callsign: str | None, *, session: AsyncSession) -> bool:
    """Whether this unit has accepted the incident (need to know for its full record)."""
    if callsign is None:
        return False
    found = await session.scalar(
        select(Assignment.id)
        .join(Unit, Unit.id == Assignment.unit_id)
        .where(
            Assignment.incident_id == incident_id,
            Unit.callsign == callsign,
            Assignment.status.in_(("accepted", "en_route", "on_scene", "cleared")),
        )
    )
    return found is not None
