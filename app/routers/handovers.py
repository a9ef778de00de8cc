from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import AwareDatetime, BaseModel

from app.auth.actor import Actor
from app.deps import Session, require_roles
from app.routers import ERROR_RESPONSES
from app.schemas.common import UtcDatetime
from app.schemas.detention import HandoverOut
from app.services import handovers

router = APIRouter(prefix="/api/v1", tags=["handovers"], responses=ERROR_RESPONSES)


@router.get("/handovers", summary="Handover clocks: open ones by default")
async def list_handovers(
    session: Session,
    actor: Annotated[Actor, Depends(require_roles("supervisor", "call_handler", "crew", "nurse"))],
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


class Escalation(BaseModel):
    id: int
    at: UtcDatetime
    incident_id: int
    reason: str
    detail: str


@router.get("/escalations", summary="Recent escalations (e.g. offers nobody accepted)")
async def list_escalations(
    session: Session,
    actor: Annotated[Actor, Depends(require_roles("supervisor"))],
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[Escalation]:
    rows = await handovers.recent_escalations(session=session, actor=actor, limit=limit)
    return [Escalation.model_validate(r) for r in rows]
