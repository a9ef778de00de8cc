"""Places of safety: the registry crews choose from, updated live for supervisors and crews."""

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.actor import Actor
from app.errors import AppError, NotFound, Unprocessable
from app.models import PlaceOfSafety
from app.realtime.outbox import PendingEvent, emit
from app.schemas.place_of_safety import (
    PlaceOfSafetyCreate,
    PlaceOfSafetyOut,
    PlaceOfSafetyUpdate,
)
from app.services import audit
from app.services.areas import get_by_code


def to_out(place: PlaceOfSafety, area_code: str) -> PlaceOfSafetyOut:
    return PlaceOfSafetyOut(
        id=place.id,
        name=place.name,
        type=place.type,
        area=area_code,
        available_beds=place.available_beds,
        accepts_under_18=place.accepts_under_18,
        exclusions=place.exclusions,
        lat=place.lat,
        lon=place.lon,
    )


def _changed(place: PlaceOfSafety, area_code: str) -> PendingEvent:
    return PendingEvent(
        type="place_of_safety.updated",
        area_id=place.area_id,
        audience=["crew", "nurse", "call_handler"],
        data=to_out(place, area_code).model_dump(mode="json"),
    )


async def list_places(*, session: AsyncSession, actor: Actor) -> list[PlaceOfSafety]:
    return list(
        await session.scalars(
            select(PlaceOfSafety)
            .where(PlaceOfSafety.area_id == actor.area_id)
            .order_by(PlaceOfSafety.type, PlaceOfSafety.name)
        )
    )


async def get(
    place_id: int, *, session: AsyncSession, area_id: int, lock: bool = False
) -> PlaceOfSafety:
    query = select(PlaceOfSafety).where(
        PlaceOfSafety.id == place_id, PlaceOfSafety.area_id == area_id
    )
    place = await session.scalar(query.with_for_update() if lock else query)
    if place is None:
        raise NotFound(f"Place of safety {place_id}")
    return place


async def create(
    data: PlaceOfSafetyCreate, *, session: AsyncSession, actor: Actor
) -> PlaceOfSafety:
    area = await get_by_code(data.area or actor.area_code, session=session, field="area")
    if area.id != actor.area_id:
        raise AppError(403, "forbidden", "You may add places only to your own area.")
    place = PlaceOfSafety(area_id=area.id, **data.model_dump(exclude={"area"}))
    session.add(place)
    await session.flush()
    audit.record(
        session=session,
        actor=actor,
        action="place_of_safety.create",
        subject_type="place_of_safety",
        subject_id=place.id,
    )
    emit(session, _changed(place, area.code))
    return place


async def update(
    place_id: int, data: PlaceOfSafetyUpdate, *, session: AsyncSession, actor: Actor
) -> PlaceOfSafety:
    place = await get(place_id, session=session, area_id=actor.area_id, lock=True)
    changes = data.model_dump(exclude_unset=True)
    for name, value in changes.items():
        if value is None and name not in ("exclusions", "lat", "lon"):
            raise Unprocessable("null_not_allowed", f"{name} cannot be null; leave it out.", name)
        setattr(place, name, value)
    await session.flush()
    audit.record(
        session=session,
        actor=actor,
        action="place_of_safety.update",
        subject_type="place_of_safety",
        subject_id=place.id,
        detail=changes,
    )
    emit(session, _changed(place, actor.area_code))
    return place
