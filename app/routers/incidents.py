from typing import Annotated, get_args

from fastapi import APIRouter, Depends, Header, Query
from fastapi.responses import JSONResponse
from pydantic import AwareDatetime

from app.auth.actor import Actor
from app.deps import Session, require_roles
from app.errors import Unprocessable
from app.routers import ERROR_RESPONSES, NOT_FOUND
from app.routers.guards import person_data
from app.schemas.assignment import AssignmentOut, DispatchRequest
from app.schemas.incident import (
    HandoffCreate,
    IncidentClose,
    IncidentCreate,
    IncidentOut,
    IncidentPage,
    IncidentStatus,
    OverrideCreate,
)
from app.services import assignments, dispatch, idempotency, incidents

router = APIRouter(prefix="/api/v1/incidents", tags=["incidents"], responses=ERROR_RESPONSES)

Handler = Annotated[Actor, Depends(require_roles("call_handler", "supervisor"))]
Lister = Annotated[
    Actor, Depends(person_data("call_handler", "supervisor", action="incident.list"))
]
Reader = Annotated[
    Actor,
    Depends(person_data("call_handler", "supervisor", "crew", "nurse", action="incident.read")),
]


@router.post(
    "",
    status_code=201,
    summary="Take an incident; the rules decide who responds",
    responses={409: {"description": "Idempotency-Key reused with a different body"}},
)
async def create_incident(
    data: IncidentCreate,
    session: Session,
    actor: Handler,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> IncidentOut:
    if idempotency_key is None:
        return incidents.to_out(
            await incidents.create(data, session=session, actor=actor), role=actor.role
        )
    key = {
        "session": session,
        "user_id": actor.user_id,
        "scope": "incidents.create",
        "key": idempotency_key,
    }
    replay = await idempotency.begin(
        **key, payload=data.model_dump(mode="json", exclude_unset=True)
    )
    if replay is not None:
        return JSONResponse(replay.body, status_code=replay.status_code)  # type: ignore[return-value]
    incident = await incidents.create(data, session=session, actor=actor)
    out = incidents.to_out(incident, role=actor.role)
    await idempotency.finish(
        **key, status_code=201, body=out.model_dump(mode="json"), resource_id=out.id
    )
    return out


@router.get("", summary="Incidents in your area, newest first, a page at a time")
async def list_incidents(
    session: Session,
    actor: Lister,
    status: Annotated[
        str | None,
        Query(description="One status, or several separated by commas: open,dispatched"),
    ] = None,
    mine: Annotated[bool, Query(description="Only incidents you created")] = False,
    since: Annotated[AwareDatetime | None, Query(description="Created at or after")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page")] = None,
) -> IncidentPage:
    if cursor is not None and not cursor.isdigit():
        raise Unprocessable("invalid_cursor", "cursor must be a next_cursor value.", "cursor")
    statuses = None if status is None else [s.strip() for s in status.split(",") if s.strip()]
    if statuses is not None and (not statuses or set(statuses) - set(get_args(IncidentStatus))):
        raise Unprocessable(
            "invalid_status",
            f"status must be among {', '.join(get_args(IncidentStatus))}.",
            "status",
        )
    page, next_id = await incidents.list_page(
        session=session,
        actor=actor,
        statuses=statuses,
        mine=mine,
        since=since,
        limit=limit,
        before_id=int(cursor) if cursor else None,
    )
    return IncidentPage(
        items=[incidents.to_out(i, role=actor.role) for i in page],
        next_cursor=None if next_id is None else str(next_id),
    )


@router.get("/{incident_id}", summary="One incident (the read is audited)")
async def get_incident(incident_id: int, session: Session, actor: Reader) -> IncidentOut:
    incident = await incidents.get(incident_id, session=session, actor=actor)
    return incidents.to_out(incident, role=actor.role)


@router.post(
    "/{incident_id}/override",
    summary="Record a person's decision beside the rules' (call handlers must give a reason)",
)
async def override_decision(
    incident_id: int, data: OverrideCreate, session: Session, actor: Handler
) -> IncidentOut:
    incident = await incidents.override(incident_id, data, session=session, actor=actor)
    return incidents.to_out(incident, role=actor.role)


@router.post(
    "/{incident_id}/dispatch",
    status_code=201,
    summary="Offer the incident to a unit by hand (the named one, or the best available)",
)
async def dispatch_incident(
    incident_id: int, data: DispatchRequest, session: Session, actor: Handler
) -> AssignmentOut:
    offer = await dispatch.dispatch_by_hand(
        incident_id, data.kind, data.unit, data.force, session=session, actor=actor
    )
    return await assignments.get_out(offer.id, session=session, actor=actor)


@router.post(
    "/{incident_id}/handoff",
    status_code=201,
    summary="Record that the incident was passed to another agency (the desk's task)",
    responses={**NOT_FOUND, 409: {"description": "The incident is closed"}},
)
async def handoff(
    incident_id: int, data: HandoffCreate, session: Session, actor: Handler
) -> IncidentOut:
    incident = await incidents.record_handoff(incident_id, data, session=session, actor=actor)
    return incidents.to_out(incident, role=actor.role)


@router.post(
    "/{incident_id}/close",
    summary="Close the incident with a reason (refused while a unit has it)",
    responses={**NOT_FOUND, 409: {"description": "A unit still has it, or already closed"}},
)
async def close(
    incident_id: int, data: IncidentClose, session: Session, actor: Handler
) -> IncidentOut:
    incident = await incidents.close(incident_id, data, session=session, actor=actor)
    return incidents.to_out(incident, role=actor.role)
