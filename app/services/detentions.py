"""Section 135/136 detentions: each step recorded, attributable and safe to retry.

The law is the pure `app.s136` (rules S1–S10, the handover goal, what "within goal" means,
possible duplicates); the clock arithmetic is the pure `app.clocks`. This module orchestrates:
it reads what the rules need, asks them, answers a refusal with 422 (every refusal listed, the
first one's rule named), and stores the step with its clocks (app/services/detention_clocks.py)
and its audit entry. Thresholds that had already passed when a time is entered late are
announced at once, in order, in the same transaction.
"""

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from app import clocks, need_to_know, s136
from app.auth.actor import Actor
from app.database import db_now
from app.errors import AppError, NotFound, Unprocessable
from app.models import (
    Area,
    Assignment,
    Clock,
    Detention,
    DetentionTransfer,
    Incident,
    PlaceOfSafety,
    Unit,
)
from app.realtime import events
from app.realtime.outbox import emit
from app.schemas.detention import (
    ArrivalRecord,
    DetentionCreate,
    DetentionOut,
    ExtensionRecord,
    HandoverAgreement,
    PlaceChoiceFields,
    TransferOut,
    TransferRecord,
)
from app.services import assignments, audit, escalations, places_of_safety
from app.services.detention_clocks import (
    advance,
    announce,
    clock_event,
    clock_out,
    retarget,
    spec_of,
    start,
    stop,
)

ASSESSMENT = (clocks.ASSESSMENT_GOAL, clocks.ASSESSMENT_WARNING)
WELFARE = (clocks.WELFARE_CHECK_INTERVAL, clocks.WELFARE_CHECK_WARNING)
_CHOICE_FIELDS = tuple(PlaceChoiceFields.model_fields)


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


def _refuse(verdict: s136.Verdict) -> None:
    """422 when the rules refuse: `code` and `message` are the first refusal's (its message
    names the rule), `details` every refusal in the rules' order, each with its rule id."""
    if verdict.accepted:
        return
    first = verdict.refusals[0]
    more = len(verdict.refusals) - 1
    message = first.message + (f" ({more} more: see details.)" if more else "")
    raise AppError(
        422,
        first.code,
        message,
        [{"field": r.field, "message": r.message, "rule": r.rule} for r in verdict.refusals],
    )


def _latest(detention: Detention, kind: str) -> Clock | None:
    """The clock of this kind now running, else the last one that ran."""
    of_kind = [c for c in detention.clocks if c.kind == kind]
    running = [c for c in of_kind if c.stopped_at is None]
    return (running or of_kind or [None])[-1]


def _running(detention: Detention, kind: str) -> Clock | None:
    return next((c for c in detention.clocks if c.kind == kind and c.stopped_at is None), None)


def _started(detention: Detention, kind: str) -> Clock:
    clock = _latest(detention, kind)
    if clock is None:
        raise AppError(
            409,
            "not_started",
            f"There is no {kind.replace('_', ' ')} clock: record the arrival first.",
        )
    return clock


async def _may(detention: Detention, actor: Actor, *, session: AsyncSession, change: bool) -> bool:
    """Need to know (app/need_to_know.py): supervisors; the recording unit's crew while the
    detention runs and for the area's `crew_access_hours` after it ended; to read only, the
    nurse desk when it was consulted on this incident (and may still see it)."""
    if actor.role == "supervisor":
        return True
    now = await db_now(session)
    access = await assignments.access_window(detention.area_id, session=session)
    facts = need_to_know.DetentionFacts(detention.unit_callsign, detention.ended_at)
    if change:
        return need_to_know.may_change_detention(
            actor.role, facts, unit_callsign=actor.unit_callsign, now=now, access=access
        )
    consulted = actor.role == "nurse" and await assignments.unit_may_see(
        detention.incident_id, actor.unit_callsign, session=session, now=now, access=access
    )
    return need_to_know.may_see_detention(
        actor.role,
        facts,
        unit_callsign=actor.unit_callsign,
        desk_consulted=consulted,
        now=now,
        access=access,
    )


async def _load(
    incident_id: int, *, session: AsyncSession, actor: Actor, step: str, lock: bool = True
) -> Detention:
    """The detention, locked when it is to be changed (`lock`), for one who may read it (or
    change it). Whether they may is decided on an unlocked read first, so a refused request
    never holds or waits for the row's lock; a refusal answers 404 as if there were none (that
    a person was detained is itself need to know) and is audited."""
    detention = await session.scalar(
        select(Detention).where(
            Detention.incident_id == incident_id, Detention.area_id == actor.area_id
        )
    )
    if detention is None or not await _may(detention, actor, session=session, change=lock):
        raise await audit.denied(
            NotFound(f"The s136 record of incident {incident_id}"),
            session=session,
            actor=actor,
            action=f"detention.{step}",
            subject_id=incident_id,
        )
    query = (
        select(Detention)
        .where(Detention.id == detention.id)
        .options(selectinload(Detention.clocks), selectinload(Detention.place))
        .execution_options(populate_existing=True)
    )
    loaded = await session.scalar(query.with_for_update(of=Detention) if lock else query)
    assert loaded is not None  # detentions are never deleted
    return loaded


async def _transfers(detention: Detention, *, session: AsyncSession) -> list[DetentionTransfer]:
    return list(
        await session.scalars(
            select(DetentionTransfer)
            .where(DetentionTransfer.detention_id == detention.id)
            .order_by(DetentionTransfer.at, DetentionTransfer.id)
        )
    )


def _first_place_id(detention: Detention, transfers: list[DetentionTransfer]) -> int | None:
    """The first place of safety (the Home Office return's), whatever transfers followed."""
    return transfers[0].from_place_id if transfers else detention.place_of_safety_id


async def get(incident_id: int, *, session: AsyncSession, actor: Actor) -> Detention:
    detention = await _load(incident_id, session=session, actor=actor, step="read", lock=False)
    _audit(session, actor, "read", incident_id)
    return detention


async def to_out(detention: Detention, *, session: AsyncSession) -> DetentionOut:
    now = await db_now(session)
    await session.refresh(detention, ["clocks", "place"])
    transfers = await _transfers(detention, session=session)
    names: dict[int, str] = {}
    if transfers:
        rows = await session.execute(
            select(PlaceOfSafety.id, PlaceOfSafety.name).where(
                PlaceOfSafety.id.in_([t.to_place_id for t in transfers])
            )
        )
        names = {place_id: name for place_id, name in rows.all()}
    return DetentionOut(
        id=detention.id,
        incident_id=detention.incident_id,
        power=detention.power,
        detained_at=detention.detained_at,
        found_in=detention.found_in,
        warrant=(
            {"issued_by": detention.warrant_issued_by, "issued_at": detention.warrant_issued_at}
            if detention.warrant_issued_by and detention.warrant_issued_at
            else None
        ),
        consulted=(
            {"who": detention.consulted_who, "at": detention.consulted_at}
            if detention.consulted_who
            else None
        ),
        not_consulted_reason=detention.not_consulted_reason,
        place_of_safety_id=detention.place_of_safety_id,
        place_of_safety=detention.place.name if detention.place else None,
        place_type=detention.place_type,
        first_place_of_safety_id=_first_place_id(detention, transfers),
        police_station_reason=detention.police_station_reason,
        authorised_by=detention.authorised_by,
        believed_adult_reason=detention.believed_adult_reason,
        under_18_place_reason=detention.under_18_place_reason,
        review_required=detention.review_required,
        flags=list(detention.flags or []),
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
        transfers=[
            TransferOut(
                at=t.at,
                from_place_of_safety_id=t.from_place_id,
                to_place_of_safety_id=t.to_place_id,
                to_place_of_safety=names.get(t.to_place_id),
                vehicle=t.vehicle,
                reason=t.reason,
            )
            for t in transfers
        ],
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


def _place(place: PlaceOfSafety | None) -> s136.Place | None:
    return s136.Place(place.type, place.accepts_under_18) if place is not None else None


def _choice(
    age: int | None,
    place: PlaceOfSafety | None,
    sent: PlaceChoiceFields,
    recorded: Detention | None = None,
) -> s136.PlaceChoice:
    """The person and the place, with the exceptional-place fields as sent (else as already
    recorded on the detention)."""
    values = {
        name: getattr(sent, name) or (getattr(recorded, name) if recorded is not None else None)
        for name in _CHOICE_FIELDS
    }
    return s136.PlaceChoice(age=age, place=_place(place), **values)


def _apply_place(
    detention: Detention, place: PlaceOfSafety, choice: s136.PlaceChoice, flags: tuple[str, ...]
) -> None:
    detention.place_of_safety_id = place.id
    detention.place_type = place.type
    for name in _CHOICE_FIELDS:
        setattr(detention, name, getattr(choice, name))
    _add_flags(detention, flags)


def _add_flags(detention: Detention, flags: tuple[str, ...] | list[str]) -> None:
    merged = list(detention.flags or [])
    merged += [f for f in flags if f not in merged]
    detention.flags = merged  # a new list, so the change is seen
    detention.review_required = detention.review_required or bool(
        s136.REVIEW_FLAGS.intersection(merged)
    )


def _as_sent(data: DetentionCreate, age: int | None, found_in: str) -> dict[str, Any]:
    """The body as it would be stored (the incident's age and location kind where not given),
    flattened for comparison with the record."""
    return {
        "power": data.power,
        "detained_at": data.detained_at,
        "found_in": found_in,
        "warrant.issued_by": data.warrant.issued_by if data.warrant else None,
        "warrant.issued_at": data.warrant.issued_at if data.warrant else None,
        "consulted.who": data.consulted.who if data.consulted else None,
        "consulted.at": data.consulted.at if data.consulted else None,
        "not_consulted_reason": data.not_consulted_reason,
        "place_of_safety_id": data.place_of_safety_id,
        "police_station_reason": data.police_station_reason,
        "authorised_by": data.authorised_by,
        "believed_adult_reason": data.believed_adult_reason,
        "under_18_place_reason": data.under_18_place_reason,
        "vehicle": data.vehicle,
        "ambulance_requested": data.ambulance_requested,
        "police_vehicle_reason": data.police_vehicle_reason,
        "person.age": age,
        "person.gender": data.person.gender,
        "person.ethnicity": data.person.ethnicity,
    }


def _as_recorded(detention: Detention, first_place_id: int | None) -> dict[str, Any]:
    return {
        "power": detention.power,
        "detained_at": detention.detained_at,
        "found_in": detention.found_in,
        "warrant.issued_by": detention.warrant_issued_by,
        "warrant.issued_at": detention.warrant_issued_at,
        "consulted.who": detention.consulted_who,
        "consulted.at": detention.consulted_at,
        "not_consulted_reason": detention.not_consulted_reason,
        "place_of_safety_id": first_place_id,
        "police_station_reason": detention.police_station_reason,
        "authorised_by": detention.authorised_by,
        "believed_adult_reason": detention.believed_adult_reason,
        "under_18_place_reason": detention.under_18_place_reason,
        "vehicle": detention.vehicle,
        "ambulance_requested": detention.ambulance_requested,
        "police_vehicle_reason": detention.police_vehicle_reason,
        "person.age": detention.person_age,
        "person.gender": detention.person_gender,
        "person.ethnicity": detention.person_ethnicity,
    }


async def record(
    incident_id: int, data: DetentionCreate, *, session: AsyncSession, actor: Actor
) -> Detention:
    # The area first, unlocked: another area's incident is never locked (nor disclosed).
    found = await session.get(Incident, incident_id)
    if found is None or found.area_id != actor.area_id:
        raise await audit.denied(
            NotFound(f"Incident {incident_id}"),
            session=session,
            actor=actor,
            action="detention.create",
            subject_id=incident_id,
        )
    incident = await session.get_one(
        Incident, incident_id, with_for_update=True, populate_existing=True
    )
    age = data.person.age if data.person.age is not None else incident.person.get("age")
    found_in = data.found_in or incident.location_kind
    existing = await session.scalar(select(Detention).where(Detention.incident_id == incident_id))
    if existing is not None:
        if not await _may(existing, actor, session=session, change=True):
            # Another unit's detention: the conflict is real (the person is already detained),
            # but which unit, and what it recorded, is not this crew's to know.
            raise await audit.denied(
                AppError(
                    409,
                    "detention_exists",
                    "A detention is already recorded for this incident by another unit; "
                    "ask a supervisor.",
                ),
                session=session,
                actor=actor,
                action="detention.create",
                subject_id=incident_id,
            )
        # The same record again is a retry; a changed one is refused, naming each change, so
        # nothing is silently dropped and no change escapes the rules.
        first_place = _first_place_id(existing, await _transfers(existing, session=session))
        changed = s136.differences(
            _as_recorded(existing, first_place), _as_sent(data, age, found_in)
        )
        if changed:
            raise AppError(
                409,
                "detention_exists",
                "A different detention is already recorded for this incident: "
                + ", ".join(d.field for d in changed)
                + " differ.",
                [d.as_detail() for d in changed],
            )
        return await _load(incident_id, session=session, actor=actor, step="create")
    now = await db_now(session)
    place = None
    if data.place_of_safety_id is not None:
        place = await places_of_safety.get(
            data.place_of_safety_id, session=session, area_id=actor.area_id
        )
    verdict = s136.check_detention(
        s136.DetentionFacts(
            now=now,
            detained_at=data.detained_at,
            power=data.power,
            found_in=found_in,
            warrant_given=data.warrant is not None,
            warrant_issued_by=data.warrant.issued_by if data.warrant else None,
            warrant_issued_at=data.warrant.issued_at if data.warrant else None,
            consulted_who=data.consulted.who if data.consulted else None,
            consulted_at=data.consulted.at if data.consulted else None,
            not_consulted_reason=data.not_consulted_reason,
            vehicle=data.vehicle,
            ambulance_requested=data.ambulance_requested,
            police_vehicle_reason=data.police_vehicle_reason,
            choice=_choice(age, place, data),
        )
    )
    _refuse(verdict)
    detention = Detention(
        incident_id=incident.id,
        area_id=incident.area_id,
        unit_callsign=await _detaining_unit(incident, actor, session=session),
        power=data.power,
        detained_at=data.detained_at,
        found_in=found_in,
        warrant_issued_by=data.warrant.issued_by if data.warrant else None,
        warrant_issued_at=data.warrant.issued_at if data.warrant else None,
        consulted_who=data.consulted.who if data.consulted else None,
        consulted_at=data.consulted.at if data.consulted else None,
        not_consulted_reason=data.not_consulted_reason,
        place_of_safety_id=data.place_of_safety_id,
        place_type=place.type if place is not None else "not_known",
        police_station_reason=data.police_station_reason,
        authorised_by=data.authorised_by,
        believed_adult_reason=data.believed_adult_reason,
        under_18_place_reason=data.under_18_place_reason,
        flags=[],
        review_required=False,
        vehicle=data.vehicle,
        ambulance_requested=data.ambulance_requested,
        police_vehicle_reason=data.police_vehicle_reason,
        person_age=age,
        person_gender=data.person.gender,
        person_ethnicity=data.person.ethnicity,
        created_by_id=actor.user_id,
        updated_by_id=actor.user_id,
    )
    _add_flags(detention, verdict.flags)
    session.add(detention)
    await session.flush()
    await _flag_possible_duplicates(detention, incident, session=session)
    _audit(
        session,
        actor,
        "create",
        incident.id,
        {"power": data.power, "place_type": detention.place_type, "flags": detention.flags},
    )
    return await _load(incident_id, session=session, actor=actor, step="create")


def _detained(detention: Detention, incident: Incident) -> s136.Detained:
    sex = detention.person_gender
    if sex in (None, "not_known"):
        sex = incident.person.get("gender")
    return s136.Detained(
        incident_id=detention.incident_id,
        detained_at=detention.detained_at,
        sex=sex,
        age=detention.person_age,
        place_of_safety_id=detention.place_of_safety_id,
        description=incident.person.get("description"),
    )


async def _flag_possible_duplicates(
    detention: Detention, incident: Incident, *, session: AsyncSession
) -> None:
    """The same person detained on another incident of the area within 24 hours: flag both
    and tell supervisors (an escalation per pair, raised once)."""
    window = s136.duplicates.WINDOW
    rows = (
        await session.execute(
            select(Detention, Incident)
            .join(Incident, Incident.id == Detention.incident_id)
            .where(
                Detention.area_id == detention.area_id,
                Detention.id != detention.id,
                Detention.detained_at >= detention.detained_at - window,
                Detention.detained_at <= detention.detained_at + window,
            )
            .order_by(Detention.detained_at, Detention.id)
        )
    ).all()
    others = {other.incident_id: other.id for other, _ in rows}
    found = s136.possible_duplicates(
        _detained(detention, incident), [_detained(other, inc) for other, inc in rows]
    )
    for match in found:
        _add_flags(detention, [s136.POSSIBLE_DUPLICATE])
        # The other record is not locked here: add the flag in one statement, so a concurrent
        # change to that detention cannot lose it.
        await session.execute(
            update(Detention)
            .where(
                Detention.id == others[match.other.incident_id],
                ~Detention.flags.contains([s136.POSSIBLE_DUPLICATE]),
            )
            .values(flags=func.array_append(Detention.flags, s136.POSSIBLE_DUPLICATE))
            .execution_options(synchronize_session=False)
        )
        await escalations.raise_escalation(
            session=session,
            area_id=detention.area_id,
            incident_id=detention.incident_id,
            reason="possible_duplicate_detention",
            risk="urgent",
            detail=s136.duplicates.explain(detention.incident_id, match),
            dedupe_key=s136.duplicates.dedupe_key(detention.incident_id, match.other.incident_id),
        )
    if found:
        await session.flush()


def _same_or_conflict(recorded: datetime | None, at: datetime, what: str) -> bool:
    """True when `what` was already recorded at exactly `at` (a retry)."""
    if recorded is None:
        return False
    if recorded == at:
        return True
    raise AppError(
        409, "already_recorded", f"{what} is already recorded at {recorded.isoformat()}."
    )


async def _start_place_clocks(
    detention: Detention,
    place_id: int,
    place_type: str,
    at: datetime,
    now: datetime,
    *,
    session: AsyncSession,
    welfare_running: bool = False,
) -> None:
    """The clocks that belong to a place: its handover clock (S8, with the area's goal for that
    type of place, if any) and, at a police station, the welfare checks (S4)."""
    area = await session.get_one(Area, detention.area_id)
    goal = s136.handover_goal(
        area.handover_goal_minutes,
        area.handover_warning_minutes,
        area.handover_goals_by_place_type,
        place_type,
    )
    if goal is not None:
        await start(
            detention,
            "handover",
            at,
            goal.goal,
            goal.warning,
            now,
            session=session,
            place_of_safety_id=place_id,
        )
    if s136.needs_welfare_checks(place_type) and not welfare_running:
        await start(
            detention,
            "welfare_check",
            at,
            *WELFARE,
            now,
            session=session,
            place_of_safety_id=place_id,
        )


async def arrived(
    incident_id: int, data: ArrivalRecord, *, session: AsyncSession, actor: Actor
) -> Detention:
    detention = await _load(incident_id, session=session, actor=actor, step="arrived")
    at = data.at
    if _same_or_conflict(detention.arrived_at, at, "Arrival"):
        return detention
    now = await db_now(session)
    _checked(clocks.check_not_future, at, now, "at")
    _checked(clocks.check_order, detention.detained_at, at, "detained_at", "at")
    chosen = data.place_of_safety_id
    if chosen is not None and chosen != detention.place_of_safety_id:
        place = await places_of_safety.get(chosen, session=session, area_id=actor.area_id)
        choice = _choice(detention.person_age, place, data, detention)
        verdict = s136.check_place(choice)
        _refuse(verdict)
        _apply_place(detention, place, choice, verdict.flags)
    if detention.place_of_safety_id is None:
        raise Unprocessable(
            "place_required", "Say which place of safety you arrived at.", "place_of_safety_id"
        )
    detention.arrived_at = at
    detention.updated_by_id = actor.user_id
    await session.flush()
    await _start_place_clocks(
        detention, detention.place_of_safety_id, detention.place_type, at, now, session=session
    )
    await start(detention, "assessment", at, *ASSESSMENT, now, session=session)
    limit = clocks.detention_spec(at, 0)
    await start(detention, "detention", at, limit.goal, limit.warning, now, session=session)
    await _set_unit_status(detention, "at_place_of_safety", session=session)
    _audit(session, actor, "arrived", incident_id, {"at": at.isoformat()})
    await session.flush()
    return detention


async def transfer(
    incident_id: int, data: TransferRecord, *, session: AsyncSession, actor: Actor
) -> Detention:
    """S10: the person moved to another place of safety (s136(3)). The 24-hour clock keeps
    running from the first arrival; the handover clock at the place left stops (if still
    running) and a new one starts at the new place; the welfare checks follow the person into
    and out of police stations."""
    detention = await _load(incident_id, session=session, actor=actor, step="transfer")
    if detention.arrived_at is None:
        raise AppError(
            409, "not_arrived", "Record the arrival at the first place of safety first (S10)."
        )
    transfers = await _transfers(detention, session=session)
    if any(t.at == data.at and t.to_place_id == data.place_of_safety_id for t in transfers):
        return detention  # a retry
    if detention.outcome is not None:
        raise AppError(409, "detention_ended", "The detention has ended.")
    now = await db_now(session)
    place = await places_of_safety.get(
        data.place_of_safety_id, session=session, area_id=actor.area_id
    )
    choice = _choice(detention.person_age, place, data, detention)
    verdict = s136.check_transfer(
        s136.TransferFacts(
            now=now,
            at=data.at,
            first_arrived_at=detention.arrived_at,
            current_since=transfers[-1].at if transfers else detention.arrived_at,
            current_place_id=detention.place_of_safety_id,
            to_place_id=place.id,
            choice=choice,
        )
    )
    _refuse(verdict)
    left = detention.place_of_safety_id
    handover = _running(detention, "handover")
    if handover is not None:
        await stop(handover, detention, data.at, now, reason=s136.TRANSFERRED, session=session)
    welfare = _running(detention, "welfare_check")
    if welfare is not None and not s136.needs_welfare_checks(place.type):
        await stop(welfare, detention, data.at, now, reason=s136.TRANSFERRED, session=session)
        welfare = None
    _apply_place(detention, place, choice, verdict.flags)
    # The handover fields describe the handover at the place the person is at now.
    detention.handover_at = None
    detention.received_by = None
    detention.handover_agreed_by = None
    detention.handover_agreed_reason = None
    detention.updated_by_id = actor.user_id
    session.add(
        DetentionTransfer(
            detention_id=detention.id,
            at=data.at,
            from_place_id=left,
            to_place_id=place.id,
            vehicle=data.vehicle,
            reason=data.reason,
            recorded_by_id=actor.user_id,
        )
    )
    await session.flush()  # the stopped clocks first: one running clock per kind
    await _start_place_clocks(
        detention,
        place.id,
        place.type,
        data.at,
        now,
        session=session,
        welfare_running=welfare is not None,
    )
    _audit(
        session,
        actor,
        "transfer",
        incident_id,
        {"at": data.at.isoformat(), "from_place_id": left, "to_place_id": place.id},
    )
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


async def _current_since(detention: Detention, *, session: AsyncSession) -> datetime:
    """The arrival at the place the person is at now (the first arrival, or the last move)."""
    transfers = await _transfers(detention, session=session)
    assert detention.arrived_at is not None
    return transfers[-1].at if transfers else detention.arrived_at


async def handed_over(
    incident_id: int, at: datetime, received_by: str, *, session: AsyncSession, actor: Actor
) -> Detention:
    detention = await _load(incident_id, session=session, actor=actor, step="handover")
    if detention.arrived_at is None:
        raise Unprocessable(
            "handover_before_arrival", "Record the arrival before the handover.", "at"
        )
    if _same_or_conflict(detention.handover_at, at, "The handover"):
        return detention
    now = await db_now(session)
    _checked(clocks.check_not_future, at, now, "at")
    since = await _current_since(detention, session=session)
    _checked(clocks.check_order, since, at, "arrived_at", "at")
    clock = _latest(detention, "handover")
    if clock is not None and clock.stop_reason == s136.ENDED:
        # The outcome was entered first; a handover made before it is still a handover.
        assert clock.stopped_at is not None
        if at > clock.stopped_at:
            raise AppError(
                409,
                "detention_ended",
                f"The detention ended at {clock.stopped_at.isoformat()}, before this handover.",
            )
        clock.stopped_at = None
        clock.stop_reason = None
    detention.handover_at = at
    detention.received_by = received_by
    detention.updated_by_id = actor.user_id
    if clock is not None and clock.stopped_at is None:
        await stop(
            clock,
            detention,
            at,
            now,
            reason=s136.HANDED_OVER,
            received_by=received_by,
            session=session,
        )
    _audit(
        session, actor, "handover", incident_id, {"at": at.isoformat(), "received_by": received_by}
    )
    await session.flush()
    return detention


async def agree_longer_handover(
    incident_id: int, data: HandoverAgreement, *, session: AsyncSession, actor: Actor
) -> Detention:
    detention = await _load(incident_id, session=session, actor=actor, step="handover_agreement")
    clock = _started(detention, "handover")
    if (
        clock.agreed
        and clock.goal_minutes == data.goal_minutes
        and detention.handover_agreed_by == data.agreed_by
        and detention.handover_agreed_reason == data.reason
    ):
        return detention  # a retry
    if clock.stopped_at is not None:
        raise AppError(409, "handover_done", "The handover clock has already stopped.")
    now = await db_now(session)
    refusal = s136.check_agreement(clock.started_at, clock.goal_minutes, data.goal_minutes, now)
    if refusal is not None:
        status = 409 if refusal.code == "goal_passed" else 422
        raise AppError(
            status,
            refusal.code,
            refusal.message,
            [{"field": refusal.field, "message": refusal.message, "rule": refusal.rule}],
        )
    agreed = clocks.with_agreed_goal(spec_of(clock), timedelta(minutes=data.goal_minutes))
    await retarget(clock, detention, agreed, now, session=session)
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
    detention = await _load(incident_id, session=session, actor=actor, step="assessment")
    clock = _started(detention, "assessment")
    if _same_or_conflict(detention.assessment_at, at, "The assessment"):
        return detention
    now = await db_now(session)
    _checked(clocks.check_not_future, at, now, "at")
    _checked(clocks.check_order, clock.started_at, at, "arrived_at", "at")
    detention.assessment_at = at
    detention.updated_by_id = actor.user_id
    await stop(clock, detention, at, now, reason="assessed", session=session)
    _audit(session, actor, "assessment", incident_id, {"at": at.isoformat()})
    await session.flush()
    return detention


async def extend(
    incident_id: int, data: ExtensionRecord, *, session: AsyncSession, actor: Actor
) -> Detention:
    detention = await _load(incident_id, session=session, actor=actor, step="extension")
    clock = _started(detention, "detention")
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
    await retarget(clock, detention, extended, now, session=session)
    emit(session, clock_event("extended", clock, detention, now))
    _audit(session, actor, "extension", incident_id, {"hours": data.hours, "doctor": data.doctor})
    await session.flush()
    return detention


async def welfare_checked(
    incident_id: int, at: datetime, by: str, *, session: AsyncSession, actor: Actor
) -> Detention:
    detention = await _load(incident_id, session=session, actor=actor, step="welfare_check")
    clock = _started(detention, "welfare_check")
    if clock.stopped_at is not None:
        if detention.outcome is not None:
            raise AppError(409, "detention_ended", "The detention has ended.")
        raise AppError(
            409, "not_at_police_station", "The person is no longer held at a police station."
        )
    now = await db_now(session)
    try:
        restart = s136.welfare_restart(spec_of(clock), set(clock.fired), at, now)
    except clocks.ClockError as exc:
        raise Unprocessable(exc.code, str(exc), exc.field) from exc
    # Thresholds that passed before this check was made are real misses: announce them first.
    for threshold in restart.owed:
        await announce(clock, detention, threshold, session=session)
    clock.started_at = restart.restarted.started_at
    clock.fired = []
    emit(session, clock_event("started", clock, detention, now))
    await advance(clock, detention, now, session=session)
    _audit(session, actor, "welfare_check", incident_id, {"at": at.isoformat(), "by": by})
    await session.flush()
    return detention


async def ended(
    incident_id: int, at: datetime, outcome: str, *, session: AsyncSession, actor: Actor
) -> Detention:
    detention = await _load(incident_id, session=session, actor=actor, step="outcome")
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
    # An outcome is not a handover: a handover clock still running stops as `ended`.
    for clock in detention.clocks:
        await stop(
            clock, detention, max(at, clock.started_at), now, reason=s136.ENDED, session=session
        )
    _audit(session, actor, "outcome", incident_id, {"outcome": outcome, "at": at.isoformat()})
    await session.flush()
    return detention
