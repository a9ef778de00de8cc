from typing import Annotated

from fastapi import APIRouter, Depends

from app.auth.actor import Actor
from app.deps import Session, require_roles
from app.routers import ERROR_RESPONSES
from app.schemas.place_of_safety import (
    PlaceOfSafetyCreate,
    PlaceOfSafetyOut,
    PlaceOfSafetyUpdate,
)
from app.services import places_of_safety as places

router = APIRouter(
    prefix="/api/v1/places-of-safety", tags=["places of safety"], responses=ERROR_RESPONSES
)

Manager = Annotated[Actor, Depends(require_roles("admin", "supervisor"))]
Anyone = Annotated[
    Actor, Depends(require_roles("admin", "supervisor", "call_handler", "crew", "nurse"))
]


@router.get("", summary="Places of safety in your area, with availability")
async def list_places(session: Session, actor: Anyone) -> list[PlaceOfSafetyOut]:
    return [
        places.to_out(p, actor.area_code)
        for p in await places.list_places(session=session, actor=actor)
    ]


@router.post("", status_code=201, summary="Add a place of safety")
async def create_place(
    data: PlaceOfSafetyCreate, session: Session, actor: Manager
) -> PlaceOfSafetyOut:
    return places.to_out(await places.create(data, session=session, actor=actor), actor.area_code)


@router.patch("/{place_id}", summary="Change a place (beds, exclusions, …)")
async def update_place(
    place_id: int, data: PlaceOfSafetyUpdate, session: Session, actor: Manager
) -> PlaceOfSafetyOut:
    return places.to_out(
        await places.update(place_id, data, session=session, actor=actor), actor.area_code
    )
