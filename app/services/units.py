"""Units: triage cars and nurse desks, their status and position."""

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.actor import Actor
from app.database import db_now
from app.errors import AppError, NotFound, Unprocessable
from app.models import Area, Unit
from app.realtime import events
from app.realtime.outbox import emit
from app.schemas.unit import UnitCreate, UnitOut, UnitUpdate
from app.services import audit, dispatch
from app.services.areas import get_by_code


def to_out(unit: Unit, area_code: str) -> UnitOut:
    return UnitOut.model_validate(
        {**{c: getattr(unit, c) for c in UnitOut.model_fields if c != "area"}, "area": area_code}
    )


async def create(data: UnitCreate, *, session: AsyncSession, actor: Actor) -> tuple[Unit, str]:
    area = await get_by_code(data.area or actor.area_code, session=session, field="area")
    if area.id != actor.area_id and actor.role != "admin":
        raise AppError(403, "forbidden", "You may add units only to your own area.")
    if await session.scalar(select(Unit.id).where(Unit.callsign == data.callsign)) is not None:
        raise AppError(409, "unit_exists", f"A unit with callsign {data.callsign} already exists.")
    unit = Unit(
        callsign=data.callsign,
        kind=data.kind,
        area_id=area.id,
        crew=[m.model_dump() for m in data.crew],
        status=data.status,
        lat=data.lat,
        lon=data.lon,
    )
    session.add(unit)
    await session.flush()
    await session.refresh(unit)
    audit.record(
        session=session,
        actor=actor,
        action="unit.create",
        subject_type="unit",
        subject_id=unit.callsign,
    )
    emit(session, events.unit_event(unit))
    return unit, area.code


async def list_units(*, session: AsyncSession, actor: Actor) -> list[tuple[Unit, str]]:
    rows = await session.execute(
        select(Unit, Area.code)
        .join(Area, Area.id == Unit.area_id)
        .where(Unit.area_id == actor.area_id)
        .order_by(Unit.callsign)
    )
    return [(u, code) for u, code in rows.all()]


async def get(callsign: str, *, session: AsyncSession, actor: Actor, lock: bool = False) -> Unit:
    query = select(Unit).where(Unit.callsign == callsign, Unit.area_id == actor.area_id)
    unit = await session.scalar(query.with_for_update() if lock else query)
    if unit is None:
        raise NotFound(f"Unit {callsign}")
    return unit


async def update(callsign: str, data: UnitUpdate, *, session: AsyncSession, actor: Actor) -> Unit:
    if actor.role != "supervisor" and actor.unit_callsign != callsign:
        raise AppError(403, "forbidden", f"You may update only your own unit, not {callsign}.")
    unit = await get(callsign, session=session, actor=actor, lock=True)
    changes = data.model_dump(exclude_unset=True)
    if "status" in changes and changes["status"] is None:
        raise Unprocessable("null_not_allowed", "status cannot be null; leave it out.", "status")
    if ("lat" in changes) != ("lon" in changes):
        raise Unprocessable("incomplete_position", "Send lat and lon together.", "lat")
    status = changes.pop("status", None)
    if status is not None and status != unit.status:
        if status == "off_duty" and unit.active_assignments:
            raise AppError(
                409,
                "unit_busy",
                f"{callsign} holds an assignment; clear or decline it before going off duty.",
            )
        if status == "available" and await dispatch.has_job(unit, session=session):
            raise AppError(
                409,
                "unit_has_job",
                f"{callsign} has a job: clear it before becoming available (so it is not "
                "left with nobody).",
            )
        unit.status = status
        unit.status_since = await db_now(session)
    for name, value in changes.items():
        setattr(unit, name, value)
    await session.flush()
    await session.refresh(unit)
    audit.record(
        session=session,
        actor=actor,
        action="unit.update",
        subject_type="unit",
        subject_id=unit.callsign,
        detail={"status": unit.status},
    )
    emit(session, events.unit_event(unit))
    return unit
