from typing import Annotated, Literal

from fastapi import APIRouter, Depends

from app.auth.actor import Actor
from app.deps import Session, require_roles
from app.routers import ERROR_RESPONSES
from app.schemas.detention import ClockBoardRow
from app.services import clock_board

router = APIRouter(prefix="/api/v1/clocks", tags=["handovers"], responses=ERROR_RESPONSES)


@router.get("", summary="Every clock of the area: handover, detention, assessment, welfare")
async def list_clocks(
    session: Session,
    actor: Annotated[Actor, Depends(require_roles("supervisor"))],
    state: Literal["open", "all"] = "open",
) -> list[ClockBoardRow]:
    """`open` (default): every running clock, oldest first, with its time left."""
    return await clock_board.list_clocks(session=session, actor=actor, state=state)
