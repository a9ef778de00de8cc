import re
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from app.auth.actor import Actor
from app.deps import Session
from app.errors import NotFound, Unprocessable
from app.routers import ERROR_RESPONSES, NOT_FOUND
from app.routers.guards import person_data
from app.schemas.audit import AuditRowOut
from app.services import audit

router = APIRouter(prefix="/api/v1/audit", tags=["audit"], responses=ERROR_RESPONSES)

Supervisor = Annotated[Actor, Depends(person_data("supervisor", action="audit.read"))]
_SUBJECT = re.compile(r"^incident:([0-9]{1,19})$")
_MAX_ID = 2**31 - 1  # incident ids are 32-bit


@router.get(
    "",
    summary="Who did what to this person's record, oldest first (supervisors of its area)",
    responses=NOT_FOUND,
)
async def audit_trail(
    session: Session,
    actor: Supervisor,
    subject: Annotated[str, Query(description="The record: `incident:<id>`", max_length=40)],
    after: Annotated[
        int | None, Query(ge=0, le=2**63 - 1, description="Only rows after this id")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 1000,
) -> list[AuditRowOut]:
    """Every row about the incident: its creation and changes, every read (one by one, in lists
    and summaries shown or delivered over a websocket), the detention's steps, and attempts that
    were refused. Reading it is itself audited."""
    match = _SUBJECT.match(subject)
    if match is None:
        raise Unprocessable("invalid_subject", "subject must be incident:<id>.", "subject")
    incident_id = int(match.group(1))
    if incident_id > _MAX_ID:
        raise NotFound(f"Incident {incident_id}")
    return await audit.trail(incident_id, session=session, actor=actor, after=after, limit=limit)
