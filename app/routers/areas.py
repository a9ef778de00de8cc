from typing import Annotated

from fastapi import APIRouter, Depends

from app.auth.actor import Actor
from app.deps import Session, require_roles
from app.routers import ERROR_RESPONSES
from app.schemas.area import AreaCreate, AreaOut, AreaUpdate
from app.services import areas

router = APIRouter(prefix="/api/v1/areas", tags=["areas"], responses=ERROR_RESPONSES)

Reader = Annotated[Actor, Depends(require_roles("admin", "supervisor"))]
Admin = Annotated[Actor, Depends(require_roles("admin"))]


@router.get("", summary="List areas")
async def list_areas(session: Session, _: Reader) -> list[AreaOut]:
    return [AreaOut.model_validate(a) for a in await areas.list_areas(session=session)]


@router.post("", status_code=201, summary="Create an area", responses={409: ERROR_RESPONSES[422]})
async def create_area(data: AreaCreate, session: Session, actor: Admin) -> AreaOut:
    return AreaOut.model_validate(await areas.create_area(data, session=session, actor=actor))


@router.patch("/{code}", summary="Change an area's settings")
async def update_area(code: str, data: AreaUpdate, session: Session, actor: Admin) -> AreaOut:
    return AreaOut.model_validate(await areas.update_area(code, data, session=session, actor=actor))
