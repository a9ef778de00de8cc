from typing import Annotated

from fastapi import APIRouter, Depends

from app.auth.actor import Actor
from app.deps import Session
from app.routers import ERROR_RESPONSES
from app.routers.guards import person_data
from app.schemas.detention import (
    ArrivalRecord,
    DetentionCreate,
    DetentionOut,
    ExtensionRecord,
    HandoverAgreement,
    HandoverRecord,
    OutcomeRecord,
    TimeRecord,
    TransferRecord,
    WelfareCheckRecord,
)
from app.services import detentions

router = APIRouter(
    prefix="/api/v1/incidents/{incident_id}/s136", tags=["s136"], responses=ERROR_RESPONSES
)

# Which crew, and whether the nurse desk was consulted, is checked by the service (need to know).
Recorder = Annotated[Actor, Depends(person_data("crew", "supervisor", action="detention.change"))]
Reader = Annotated[
    Actor, Depends(person_data("crew", "nurse", "supervisor", action="detention.read"))
]


@router.post("", status_code=201, summary="Record a section 136 (or 135) detention")
async def record_detention(
    incident_id: int, data: DetentionCreate, session: Session, actor: Recorder
) -> DetentionOut:
    detention = await detentions.record(incident_id, data, session=session, actor=actor)
    return await detentions.to_out(detention, session=session)


@router.get("", summary="The detention with its clocks")
async def get_detention(incident_id: int, session: Session, actor: Reader) -> DetentionOut:
    detention = await detentions.get(incident_id, session=session, actor=actor)
    return await detentions.to_out(detention, session=session)


@router.post("/arrived", summary="Arrived at the place of safety: starts the handover clock")
async def arrived(
    incident_id: int, data: ArrivalRecord, session: Session, actor: Recorder
) -> DetentionOut:
    detention = await detentions.arrived(incident_id, data, session=session, actor=actor)
    return await detentions.to_out(detention, session=session)


@router.post(
    "/transfer",
    summary="Moved to another place of safety (S10): a new handover clock, the 24 h unchanged",
)
async def transfer(
    incident_id: int, data: TransferRecord, session: Session, actor: Recorder
) -> DetentionOut:
    detention = await detentions.transfer(incident_id, data, session=session, actor=actor)
    return await detentions.to_out(detention, session=session)


@router.post("/handover", summary="Health staff took responsibility: stops the handover clock")
async def handover(
    incident_id: int, data: HandoverRecord, session: Session, actor: Recorder
) -> DetentionOut:
    detention = await detentions.handed_over(
        incident_id, data.at, data.received_by, session=session, actor=actor
    )
    return await detentions.to_out(detention, session=session)


@router.post("/handover-agreement", summary="Record an agreed longer handover for this incident")
async def handover_agreement(
    incident_id: int, data: HandoverAgreement, session: Session, actor: Recorder
) -> DetentionOut:
    detention = await detentions.agree_longer_handover(
        incident_id, data, session=session, actor=actor
    )
    return await detentions.to_out(detention, session=session)


@router.post("/assessment", summary="The AMHP and doctor assessment began: stops the 3 h clock")
async def assessment(
    incident_id: int, data: TimeRecord, session: Session, actor: Recorder
) -> DetentionOut:
    detention = await detentions.assessed(incident_id, data.at, session=session, actor=actor)
    return await detentions.to_out(detention, session=session)


@router.post("/extension", summary="Extend the 24 h detention by up to 12 h (S2)")
async def extension(
    incident_id: int, data: ExtensionRecord, session: Session, actor: Recorder
) -> DetentionOut:
    detention = await detentions.extend(incident_id, data, session=session, actor=actor)
    return await detentions.to_out(detention, session=session)


@router.post("/welfare-check", summary="A welfare check at a police station (S4, every 30 min)")
async def welfare_check(
    incident_id: int, data: WelfareCheckRecord, session: Session, actor: Recorder
) -> DetentionOut:
    detention = await detentions.welfare_checked(
        incident_id, data.at, data.by, session=session, actor=actor
    )
    return await detentions.to_out(detention, session=session)


@router.post("/outcome", summary="The detention ended, with its outcome")
async def outcome(
    incident_id: int, data: OutcomeRecord, session: Session, actor: Recorder
) -> DetentionOut:
    detention = await detentions.ended(
        incident_id, data.at, data.outcome, session=session, actor=actor
    )
    return await detentions.to_out(detention, session=session)
