from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from pydantic import AwareDatetime

from app.auth.actor import Actor
from app.deps import Session, require_roles
from app.routers import ERROR_RESPONSES, NOT_FOUND
from app.schemas.escalation import EscalationAcknowledge, EscalationOut, EscalationState
from app.services import escalations

router = APIRouter(prefix="/api/v1/escalations", tags=["escalations"], responses=ERROR_RESPONSES)

Supervisor = Annotated[Actor, Depends(require_roles("supervisor"))]


@router.get("", summary="Escalations: open ones first, most at risk first, oldest first")
async def list_escalations(
    session: Session,
    actor: Supervisor,
    state: EscalationState = "open",
    since: Annotated[AwareDatetime | None, Query(description="Raised at or after")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 200,
) -> list[EscalationOut]:
    return await escalations.list_escalations(
        state, session=session, actor=actor, since=since, limit=limit
    )


@router.post(
    "/{escalation_id}/acknowledge",
    summary="Take ownership of an escalation: say what was done",
    responses={**NOT_FOUND, 409: {"description": "Already acknowledged by someone else"}},
)
async def acknowledge(
    escalation_id: Annotated[int, Path(ge=1, le=2**63 - 1)],
    data: EscalationAcknowledge,
    session: Session,
    actor: Supervisor,
) -> EscalationOut:
    return await escalations.acknowledge(escalation_id, data.action, session=session, actor=actor)
