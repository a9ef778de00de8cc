"""Section 136 detentions: each step recorded under rules S1–S8, attributable and safe to retry.

Arrival starts the clocks and later steps stop or change them (app/services/detention_clocks.py);
thresholds that had already passed when a time is entered late are announced at once, in order,
in the same transaction.
"""

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from app import clocks
from app.auth.actor import Actor
from app.database import db_now
from app.errors import AppError, NotFound, Unprocessable
from app.models import Area, Assignment, Clock, Detention, Incident, Unit
from app.realtime import events
from app.realtime.outbox import emit
from app.schemas.detention import (
    DetentionCreate,
    DetentionOut,
    ExtensionRecord,
    HandoverAgreement,
)
from app.services import audit, places_of_safety
from app.services.detention_clocks import (
    advance,
    clock_event,
    clock_out,
    retarget,
    spec_of,
    start,
    stop,
)

ASSESSMENT = (clocks.ASSESSMENT_GOAL, clocks.ASSESSMENT_WARNING)
WELFARE = (clocks.WELFARE_CHECK_INTERVAL, clocks.WELFARE_CHECK_WARNING)


def _audit(
    session: AsyncSession,
    actor: Actor,
    step: str,
    incident_id: int,
    detail: dict[str, object] | None = None,
) -> None:
    """Every change to a detention is attributable: who, when, which step."""
    audit.record(
        session=session,
        actor=actor,
        action=f"detention.{step}",
        subject_type="incident",
        subject_id=incident_id,
        detail=detail,
    )


def _checked(check: Callable[..., None], *args: object) -> None:
    """Run a pure check; its ClockError becomes a 422 naming the field."""
    try:
        check(*args)
    except clocks.ClockError as exc:
        raise Unprocessable(exc.code, str(exc), exc.field) from exc


def _clock(detention: Detention, kind: str) -> Clock | None:
    return next((c for c in detention.clocks if c.kind == kind), None)


async def _load(
    incident_id: int, *, session: AsyncSession, actor: Actor, lock: bool = True
) -> Detention:
    query = (
        select(Detention)
        .where(Detention.incident_id == incident_id, Detention.area_id == actor.area_id)
        .options(selectinload(Detention.clocks), selectinload(Detention.place))
    )
    detention = await session.scalar(query.with_for_update(of=Detention) if lock else query)
    if detention is None:
        raise NotFound(f"The s136 record of incident {incident_id}")
    _check_unit(detention, actor)
    return detention


def _check_unit(detention: Detention, actor: Actor) -> None:
    if actor.role == "crew" and detention.unit_callsign not in (None, actor.unit_callsign):
        raise AppError(403, "forbidden", "This detention is recorded by another unit.")


async def get(incident_id: int, *, session: AsyncSession, actor: Actor) -> Detention:
    detention = await _load(incident_id, session=session, actor=actor, lock=False)
    _audit(session, actor, "read", incident_id)
    return detention


async def to_out(detention: Detention, *, session: AsyncSession) -> DetentionOut:
    now = await db_now(session)
    await session.refresh(detention, ["clocks", "place"])
    return DetentionOut(
        id=detention.id,
        incident_id=detention.incident_id,
        power=detention.power,
        detained_at=detention.detained_at,
        consulted=(
            {"who": detention.consulted_who, "at": detention.consulted_at}
            if detention.consulted_who
            else None
        ),
        not_consulted_reason=detention.not_consulted_reason,
        place_of_safety_id=detention.place_of_safety_id,
        place_of_safety=detention.place.name if detention.place else None,
        place_type=detention.place_type,
        police_station_reason=detention.police_station_reason,
        authorised_by=detention.authorised_by,
        review_required=detention.review_required,
        vehicle=detention.vehicle,
        ambulance_requested=detention.ambulance_requested,
        police_vehicle_reason=detention.police_vehicle_reason,
        person={
            "age": detention.person_age,
            "gender": detention.person_gender,
            "ethnicity": detention.person_ethnicity,
        },
        unit=detention.unit_callsign,
        arrived_at=detention.arrived_at,
        handover_at=detention.handover_at,
        received_by=detention.received_by,
        handover_agreed_by=detention.handover_agreed_by,
        handover_agreed_reason=detention.handover_agreed_reason,
        assessment_at=detention.assessment_at,
        extension_hours=detention.extension_hours,
        extension_at=detention.extension_at,
        extension_by=detention.extension_by,
        extension_reason=detention.extension_reason,
        extension_superintendent=detention.extension_superintendent,
        outcome=detention.outcome,
        ended_at=detention.ended_at,
        clocks=[clock_out(c, now) for c in detention.clocks],
    )


def _check_place_rules(place_type: str, age: int | None, data: DetentionCreate | None) -> None:
    """S3 and S4: never a police station for a child; for an adult, only with authority."""
    if place_type != "police_station":
        return
    if age is not None and age < 18:
        raise Unprocessable(
            "police_station_under_18",
            "A police station may never be used as a place of safety for anyone under 18 (S3).",
            "place_of_safety_id",
        )
    if data is not None:
        for field, label in (
            ("police_station_reason", "the reason"),
            ("authorised_by", "the authorising inspector"),
        ):
            if not getattr(data, field):
                raise Unprocessable(
                    "police_station_needs_authority",
                    f"A police station needs {label}: only in exceptional circumstances, "
                    "authorised by an inspector or above (S4).",
                    field,
                )


async def _detaining_unit(incident: Incident, actor: Actor, *, session: AsyncSession) -> str | None:
    if actor.unit_callsign:
        return actor.unit_callsign
    return await session.scalar(
        select(Unit.callsign)
        .join(Assignment, Assignment.unit_id == Unit.id)
        .where(
            Assignment.incident_id == incident.id,
            Assignment.status.in_(("accepted", "en_route", "on_scene")),
        )
        .order_by(Assignment.id.desc())
        .limit(1)
    )


async def record(
    incident_id: int, data: DetentionCreate, *, session: AsyncSession, actor: Actor
) -> Detention:
    incident = await session.get(Incident, incident_id, with_for_update=True)
    if incident is None or incident.area_id != actor.area_id:
        raise NotFound(f"Incident {incident_id}")
    existing = await session.scalar(select(Detention).where(Detention.incident_id == incident_id))
    if existing is not None:
        if existing.detained_at == data.detained_at and existing.power == data.power:
            return await _load(incident_id, session=session, actor=actor)  # a retry
        raise AppError(
            409, "detention_exists", "A detention is already recorded for this incident."
        )
    now = await db_now(session)
    _checked(clocks.check_not_future, data.detained_at, now, "detained_at")
    # S1: consultation first, where practicable.
    if data.consulted is None and not data.not_consulted_reason:
        raise Unprocessable(
            "consultation_required",
            "Record who was consulted before detaining, or why it was not practicable (S1).",
            "consulted",
        )
    if data.consulted is not None:
        _checked(clocks.check_not_future, data.consulted.at, now, "consulted.at")
        if data.consulted.at > data.detained_at:
            raise Unprocessable(
                "time_out_of_order",
                "The consultation must come before the detention (S1).",
                "consulted.at",
            )
    # S6: conveyance by police vehicle only with the reasons recorded.
    if data.vehicle == "police_vehicle":
        if data.ambulance_requested is None:
            raise Unprocessable(
                "ambulance_request_required",
                "Say whether an ambulance was requested (S6).",
                "ambulance_requested",
            )
        if not data.police_vehicle_reason:
            raise Unprocessable(
                "police_vehicle_reason_required",
                "Say why a police vehicle was used rather than an ambulance (S6).",
                "police_vehicle_reason",
            )
    age = data.person.age if data.person.age is not None else incident.person.get("age")
    place_type = "not_known"
    if data.place_of_safety_id is not None:
        place = await places_of_safety.get(
            data.place_of_safety_id, session=session, area_id=actor.area_id
        )
        place_type = place.type
        _check_place_rules(place_type, age, data)
    detention = Detention(
        incident_id=incident.id,
        area_id=incident.area_id,
        unit_callsign=await _detaining_unit(incident, actor, session=session),
        power=data.power,
        detained_at=data.detained_at,
        consulted_who=data.consulted.who if data.consulted else None,
        consulted_at=data.consulted.at if data.consulted else None,
        not_consulted_reason=data.not_consulted_reason,
        place_of_safety_id=data.place_of_safety_id,
        place_type=place_type,
        police_station_reason=data.police_station_reason,
        authorised_by=data.authorised_by,
        review_required=place_type == "police_station",
        vehicle=data.vehicle,
        ambulance_requested=data.ambulance_requested,
        police_vehicle_reason=data.police_vehicle_reason,
        person_age=age,
        person_gender=data.person.gender,
        person_ethnicity=data.person.ethnicity,
        created_by_id=actor.user_id,
        updated_by_id=actor.user_id,
    )
    session.add(detention)
    await session.flush()
    _audit(session, actor, "create", incident.id, {"power": data.power, "place_type": place_type})
    return await _load(incident_id, session=session, actor=actor)


def _same_or_conflict(recorded: datetime | None, at: datetime, what: str) -> bool:
    """True when `what` was already recorded at exactly `at` (a retry)."""
    if recorded is None:
        return False
    if recorded == at:
        return True
    raise AppError(
        409, "already_recorded", f"{what} is already recorded at {recorded.isoformat()}."
    )


def _handover_goal(area: Area, place_type: str) -> tuple[int, int] | None:
    goals = area.handover_goals_by_place_type or {}
    if place_type in goals:
        goal = goals[place_type]
        return None if goal is None else (goal["goal"], goal["warning"])
    return area.handover_goal_minutes, area.handover_warning_minutes


async def arrived(
    incident_id: int,
    at: datetime,
    place_of_safety_id: int | None,
    *,
    session: AsyncSession,
    actor: Actor,
) -> Detention:
    detention = await _load(incident_id, session=session, actor=actor)
    if _same_or_conflict(detention.arrived_at, at, "Arrival"):
        return detention
    now = await db_now(session)
    _checked(clocks.check_not_future, at, now, "at")
    _checked(clocks.check_order, detention.detained_at, at, "detained_at", "at")
    if place_of_safety_id is not None and place_of_safety_id != detention.place_of_safety_id:
        place = await places_of_safety.get(
            place_of_safety_id, session=session, area_id=actor.area_id
        )
        _check_place_rules(place.type, detention.person_age, None)
        if place.type == "police_station" and not (
            detention.authorised_by and detention.police_station_reason
        ):
            raise Unprocessable(
                "police_station_needs_authority",
                "A police station needs an inspector's authority and the reason (S4); "
                "record them on the detention first.",
                "place_of_safety_id",
            )
        detention.place_of_safety_id = place.id
        detention.place_type = place.type
        detention.review_required = detention.review_required or place.type == "police_station"
    if detention.place_of_safety_id is None:
        raise Unprocessable(
            "place_required", "Say which place of safety you arrived at.", "place_of_safety_id"
        )
    detention.arrived_at = at
    detention.updated_by_id = actor.user_id
    await session.flush()
    area = await session.get_one(Area, detention.area_id)
    goal = _handover_goal(area, detention.place_type)
    if goal is not None:
        start(
            detention,
            "handover",
            at,
            timedelta(minutes=goal[0]),
            timedelta(minutes=goal[1]),
            now,
            session=session,
        )
    start(detention, "assessment", at, *ASSESSMENT, now, session=session)
    limit = clocks.detention_spec(at, 0)
    start(detention, "detention", at, limit.goal, limit.warning, now, session=session)
    if detention.place_type == "police_station":
        start(detention, "welfare_check", at, *WELFARE, now, session=session)
    await _set_unit_status(detention, "at_place_of_safety", session=session)
    _audit(session, actor, "arrived", incident_id, {"at": at.isoformat()})
    await session.flush()
    return detention


async def _set_unit_status(detention: Detention, status: str, *, session: AsyncSession) -> None:
    if detention.unit_callsign is None:
        return
    unit = await session.scalar(select(Unit).where(Unit.callsign == detention.unit_callsign))
    if unit is not None and unit.status != status:
        unit.status = status
        unit.status_since = await db_now(session)
        await session.flush()
        emit(session, events.unit_event(unit))


def _running(detention: Detention, kind: str) -> Clock:
    clock = _clock(detention, kind)
    if clock is None:
        raise AppError(
            409,
            "not_started",
            f"There is no {kind.replace('_', ' ')} clock: record the arrival first.",
        )
    return clock


async def handed_over(
    incident_id: int, at: datetime, received_by: str, *, session: AsyncSession, actor: Actor
) -> Detention:
    detention = await _load(incident_id, session=session, actor=actor)
    if detention.arrived_at is None:
        raise Unprocessable(
            "handover_before_arrival", "Record the arrival before the handover.", "at"
        )
    if _same_or_conflict(detention.handover_at, at, "The handover"):
        return detention
    now = await db_now(session)
    _checked(clocks.check_not_future, at, now, "at")
    _checked(clocks.check_order, detention.arrived_at, at, "arrived_at", "at")
    detention.handover_at = at
    detention.received_by = received_by
    detention.updated_by_id = actor.user_id
    clock = _clock(detention, "handover")
    if clock is not None:
        stop(clock, detention, at, now, session=session)
    _audit(
        session, actor, "handover", incident_id, {"at": at.isoformat(), "received_by": received_by}
    )
    await session.flush()
    return detention


async def agree_longer_handover(
    incident_id: int, data: HandoverAgreement, *, session: AsyncSession, actor: Actor
) -> Detention:
    detention = await _load(incident_id, session=session, actor=actor)
    clock = _running(detention, "handover")
    if clock.stopped_at is not None:
        raise AppError(409, "handover_done", "The handover has already happened.")
    if data.goal_minutes <= clock.goal_minutes:
        raise Unprocessable(
            "goal_not_longer", "An agreed goal must be longer than the current one.", "goal_minutes"
        )
    now = await db_now(session)
    agreed = clocks.with_agreed_goal(spec_of(clock), timedelta(minutes=data.goal_minutes))
    retarget(clock, detention, agreed, now, session=session)
    detention.handover_agreed_by = data.agreed_by
    detention.handover_agreed_reason = data.reason
    detention.updated_by_id = actor.user_id
    emit(session, clock_event("agreed", clock, detention, now))
    _audit(
        session,
        actor,
        "handover_agreement",
        incident_id,
        {"goal_minutes": data.goal_minutes, "agreed_by": data.agreed_by},
    )
    await session.flush()
    return detention


async def assessed(
    incident_id: int, at: datetime, *, session: AsyncSession, actor: Actor
) -> Detention:
    detention = await _load(incident_id, session=session, actor=actor)
    clock = _running(detention, "assessment")
    if _same_or_conflict(detention.assessment_at, at, "The assessment"):
        return detention
    now = await db_now(session)
    _checked(clocks.check_not_future, at, now, "at")
    _checked(clocks.check_order, clock.started_at, at, "arrived_at", "at")
    detention.assessment_at = at
    detention.updated_by_id = actor.user_id
    stop(clock, detention, at, now, session=session)
    _audit(session, actor, "assessment", incident_id, {"at": at.isoformat()})
    await session.flush()
    return detention


async def extend(
    incident_id: int, data: ExtensionRecord, *, session: AsyncSession, actor: Actor
) -> Detention:
    detention = await _load(incident_id, session=session, actor=actor)
    clock = _running(detention, "detention")
    if clock.stopped_at is not None:
        raise AppError(409, "detention_ended", "The detention has ended.")
    now = await db_now(session)
    _checked(
        clocks.check_extension,
        clock.started_at,
        now,
        data.at,
        data.hours,
        detention.extension_hours,
        detention.place_type == "police_station",
        data.superintendent,
    )
    detention.extension_hours += data.hours
    detention.extension_at = data.at
    detention.extension_by = data.doctor
    detention.extension_reason = data.reason
    detention.extension_superintendent = data.superintendent
    detention.updated_by_id = actor.user_id
    extended = clocks.detention_spec(clock.started_at, detention.extension_hours)
    retarget(clock, detention, extended, now, session=session)
    emit(session, clock_event("extended", clock, detention, now))
    _audit(session, actor, "extension", incident_id, {"hours": data.hours, "doctor": data.doctor})
    await session.flush()
    return detention


async def welfare_checked(
    incident_id: int, at: datetime, by: str, *, session: AsyncSession, actor: Actor
) -> Detention:
    detention = await _load(incident_id, session=session, actor=actor)
    clock = _running(detention, "welfare_check")
    if clock.stopped_at is not None:
        raise AppError(409, "detention_ended", "The detention has ended.")
    now = await db_now(session)
    _checked(clocks.check_not_future, at, now, "at")
    _checked(clocks.check_order, clock.started_at, at, "last_check", "at")
    # Thresholds that passed before this check was made are real misses: announce them first.
    clock.stopped_at = at
    advance(clock, detention, now, session=session)
    clock.stopped_at = None
    clock.started_at = at
    clock.fired = []
    emit(session, clock_event("started", clock, detention, now))
    advance(clock, detention, now, session=session)
    _audit(session, actor, "welfare_check", incident_id, {"at": at.isoformat(), "by": by})
    await session.flush()
    return detention


async def ended(
    incident_id: int, at: datetime, outcome: str, *, session: AsyncSession, actor: Actor
) -> Detention:
    detention = await _load(incident_id, session=session, actor=actor)
    if detention.outcome is not None:
        if detention.outcome == outcome and detention.ended_at == at:
            return detention
        raise AppError(409, "already_recorded", "The outcome is already recorded.")
    now = await db_now(session)
    _checked(clocks.check_not_future, at, now, "at")
    _checked(
        clocks.check_order, detention.arrived_at or detention.detained_at, at, "arrived_at", "at"
    )
    detention.outcome = outcome
    detention.ended_at = at
    detention.updated_by_id = actor.user_id
    for clock in detention.clocks:
        stop(clock, detention, max(at, clock.started_at), now, session=session)
    _audit(session, actor, "outcome", incident_id, {"outcome": outcome, "at": at.isoformat()})
    await session.flush()
    return detention
