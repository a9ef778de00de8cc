"""Reading assignments for the API."""

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.actor import Actor
from app.dispatch.transitions import ACTIVE
from app.errors import NotFound
from app.models import Assignment, Unit, User
from app.schemas.assignment import AssignmentOut


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
    query = _query().where(Unit.area_id == actor.area_id)
    if actor.role != "supervisor":
        query = query.where(Unit.callsign == actor.unit_callsign)
    if active_only:
        query = query.where(Assignment.status.in_(ACTIVE))
    return [out(*row) for row in (await session.execute(query)).all()]


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
