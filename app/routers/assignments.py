from typing import Annotated

from fastapi import APIRouter, Depends

from app.auth.actor import Actor
from app.deps import Session, require_roles
from app.routers import ERROR_RESPONSES
from app.schemas.assignment import (
    AdviceRequest,
    AssignmentOut,
    DeclineRequest,
    ReassignRequest,
    StatusRequest,
)
from app.services import assignments, dispatch

router = APIRouter(prefix="/api/v1/assignments", tags=["dispatch"], responses=ERROR_RESPONSES)

UnitOrSupervisor = Annotated[Actor, Depends(require_roles("crew", "nurse", "supervisor"))]
Dispatcher = Annotated[Actor, Depends(require_roles("call_handler", "supervisor"))]


@router.get("", summary="Assignments: your unit's, or (supervisor) the area's")
async def list_assignments(
    session: Session, actor: UnitOrSupervisor, active: bool = True
) -> list[AssignmentOut]:
    return await assignments.list_visible(session=session, actor=actor, active_only=active)


@router.post("/{assignment_id}/accept", summary="Accept an offer (idempotent)")
async def accept(assignment_id: int, session: Session, actor: UnitOrSupervisor) -> AssignmentOut:
    await dispatch.accept(assignment_id, session=session, actor=actor)
    return await assignments.get_out(assignment_id, session=session, actor=actor)


@router.post("/{assignment_id}/decline", summary="Decline an offer, with a reason")
async def decline(
    assignment_id: int, data: DeclineRequest, session: Session, actor: UnitOrSupervisor
) -> AssignmentOut:
    await dispatch.decline(assignment_id, data.reason, session=session, actor=actor)
    return await assignments.get_out(assignment_id, session=session, actor=actor)


@router.post("/{assignment_id}/status", summary="en_route, on_scene or cleared (idempotent)")
async def set_status(
    assignment_id: int, data: StatusRequest, session: Session, actor: UnitOrSupervisor
) -> AssignmentOut:
    await dispatch.set_status(assignment_id, data.status, session=session, actor=actor)
    return await assignments.get_out(assignment_id, session=session, actor=actor)


@router.post(
    "/{assignment_id}/advice",
    summary="Nurse desk: record the advice given and whether s136 was then used (clears it)",
)
async def record_advice(
    assignment_id: int, data: AdviceRequest, session: Session, actor: UnitOrSupervisor
) -> AssignmentOut:
    await dispatch.record_advice(
        assignment_id, data.advice, data.s136_used, session=session, actor=actor
    )
    return await assignments.get_out(assignment_id, session=session, actor=actor)


@router.post(
    "/{assignment_id}/reassign",
    summary="Cancel this assignment and offer the incident to another unit",
)
async def reassign(
    assignment_id: int, data: ReassignRequest, session: Session, actor: Dispatcher
) -> AssignmentOut:
    offer = await dispatch.reassign(
        assignment_id, data.unit, data.force, session=session, actor=actor
    )
    return await assignments.get_out(offer.id, session=session, actor=actor)
