from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import AwareDatetime

from app.auth.actor import Actor
from app.deps import Session
from app.routers import ERROR_RESPONSES
from app.routers.guards import person_data
from app.schemas.detention import HandoverOut
from app.services import handovers

router = APIRouter(prefix="/api/v1", tags=["handovers"], responses=ERROR_RESPONSES)


@router.get(
    "/handovers",
    summary="Handover clocks: open ones by default (a crew its own unit's; the nurse desk those "
    "it was consulted on)",
)
async def list_handovers(
    session: Session,
    actor: Annotated[
        Actor, Depends(person_data("supervisor", "crew", "nurse", action="handover.list"))
    ],
    state: Literal["open", "handed_over", "all"] = "open",
    from_: Annotated[date | AwareDatetime | None, Query(alias="from")] = None,
    to: Annotated[date | AwareDatetime | None, Query()] = None,
) -> list[HandoverOut]:
    """`from`/`to` filter on arrival: dates are whole days in Europe/London (`to` inclusive),
    or times with an offset. Without them, `state=open` lists every open handover and the other
    states list today's."""
    return await handovers.list_handovers(
        session=session, actor=actor, state=state, from_=from_, to=to
    )
