from typing import Annotated

from fastapi import APIRouter, Depends

from app.auth.actor import Actor
from app.deps import Session, require_roles
from app.routers import ERROR_RESPONSES
from app.schemas.unit import UnitCreate, UnitOut, UnitUpdate
from app.services import units

router = APIRouter(prefix="/api/v1/units", tags=["units"], responses=ERROR_RESPONSES)


@router.post("", status_code=201, summary="Add a triage car or nurse desk")
async def create_unit(
    data: UnitCreate,
    session: Session,
    actor: Annotated[Actor, Depends(require_roles("admin", "supervisor"))],
) -> UnitOut:
    unit, area_code = await units.create(data, session=session, actor=actor)
    return units.to_out(unit, area_code)


@router.get("", summary="Units in your area")
async def list_units(
    session: Session,
    actor: Annotated[
        Actor, Depends(require_roles("admin", "supervisor", "call_handler", "crew", "nurse"))
    ],
) -> list[UnitOut]:
    return [
        units.to_out(u, code) for u, code in await units.list_units(session=session, actor=actor)
    ]


@router.patch("/{callsign}", summary="Status and position (the unit's own crew, or a supervisor)")
async def update_unit(
    callsign: str,
    data: UnitUpdate,
    session: Session,
    actor: Annotated[Actor, Depends(require_roles("crew", "nurse", "supervisor"))],
) -> UnitOut:
    unit = await units.update(callsign, data, session=session, actor=actor)
    return units.to_out(unit, actor.area_code)
