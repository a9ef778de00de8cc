from typing import Annotated

from fastapi import APIRouter, Depends

from app.auth.actor import Actor
from app.deps import Session, require_roles
from app.routers import ERROR_RESPONSES
from app.schemas.decision import Decision
from app.schemas.incident import IncidentCreate
from app.services import incidents

router = APIRouter(prefix="/api/v1/triage", tags=["triage"], responses=ERROR_RESPONSES)


@router.post("/preview", summary="The routing decision for an incident, storing nothing")
async def preview(
    data: IncidentCreate,
    session: Session,
    actor: Annotated[Actor, Depends(require_roles("call_handler", "supervisor"))],
) -> Decision:
    decision = await incidents.preview(data, session=session, actor=actor)
    return Decision.model_validate(decision.as_dict())
