"""Offering incidents to units, and what crews do with the offers.

Locking, so that two dispatches never take the same unit: one statement ranks the free units
(app/dispatch/ranking.py) and locks the best with `ORDER BY ... LIMIT 1 FOR UPDATE SKIP LOCKED`;
PostgreSQL re-checks the availability on the locked row and moves on to the next if it has changed.
The unit taken gets `active_assignments + 1` in the same transaction. A concurrent dispatch either
skips the locked row or, once it commits, sees the unit busy. Rows are always locked assignment
first, then unit, so paths cannot deadlock.
"""

from datetime import timedelta

from sqlalchemy import Float, bindparam, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from app.auth.actor import Actor
from app.database import db_now
from app.dispatch import priority, ranking
from app.dispatch.transitions import ACTIVE, UNIT_STATUS_FOR, can_move, incident_status
from app.errors import AppError, NotFound
from app.models import Area, Assignment, DispatchWait, Incident, Unit
from app.realtime import events
from app.realtime.outbox import emit
from app.services import escalations

# Which unit kind answers which responder in a decision.
UNIT_KIND_FOR_RESPONDER = {"triage_car": "triage_car", "mh_nurse": "nurse_desk"}
# For an overridden outcome, the unit kinds that outcome calls for.
UNIT_KINDS_FOR_OUTCOME = {
    "police_and_triage": ("triage_car",),
    "triage_car": ("triage_car",),
    "nurse_advice": ("nurse_desk",),
}


def unit_kinds_needed(incident: Incident) -> list[str]:
    if incident.effective_outcome == incident.decision["outcome"]:
        responders = incident.decision["responders"]
        return [UNIT_KIND_FOR_RESPONDER[r] for r in responders if r in UNIT_KIND_FOR_RESPONDER]
    return list(UNIT_KINDS_FOR_OUTCOME.get(incident.effective_outcome, ()))


async def dispatch_needed(
    incident: Incident, *, session: AsyncSession, new: bool = False
) -> list[Assignment]:
    """Offer the incident to each unit kind its decision needs and it does not already have
    (a `new` incident has nothing yet, which saves asking)."""
    held = (
        set()
        if new
        else set(
            await session.scalars(
                select(Unit.kind)
                .join(Assignment, Assignment.unit_id == Unit.id)
                .where(Assignment.incident_id == incident.id, Assignment.status.in_(ACTIVE))
            )
        )
    )
    offers = []
    for kind in unit_kinds_needed(incident):
        if kind not in held:
            offer = await offer_next(incident, kind, session=session)
            if offer is not None:
                offers.append(offer)
    return offers


# One statement, built once (so its compiled form is cached): rank the free units not yet tried
# for the incident and lock the best, skipping any another dispatch holds.
_BEST_FREE_UNIT = (
    select(Unit)
    .where(
        Unit.area_id == bindparam("area_id"),
        Unit.kind == bindparam("kind"),
        Unit.status == "available",
        Unit.active_assignments == 0,
        Unit.id.not_in(
            select(Assignment.unit_id).where(Assignment.incident_id == bindparam("incident_id"))
        ),
    )
    .order_by(
        *ranking.nearest_first(
            incident_lat=bindparam("incident_lat", type_=Float),
            incident_lon=bindparam("incident_lon", type_=Float),
            unit_lat=Unit.lat,
            unit_lon=Unit.lon,
            idle_since=Unit.status_since,
            unit_id=Unit.id,
        )
    )
    .limit(1)
    .with_for_update(skip_locked=True)
)


async def offer_next(
    incident: Incident, kind: str, *, session: AsyncSession, by: Actor | None = None
) -> Assignment | None:
    """Offer to the best available unit of `kind` not yet tried for this incident; with none
    left, raise it to supervisors."""
    params = {
        "area_id": incident.area_id,
        "kind": kind,
        "incident_id": incident.id,
        "incident_lat": incident.lat,
        "incident_lon": incident.lon,
    }
    unit = await session.scalar(_BEST_FREE_UNIT, params)
    if unit is not None:
        return await _offer(incident, unit, session=session, by=by)
    any_tried = await session.scalar(
        select(func.count())
        .select_from(Assignment)
        .join(Unit, Unit.id == Assignment.unit_id)
        .where(Assignment.incident_id == incident.id, Unit.kind == kind)
    )
    reason = "no_unit_accepted" if any_tried else "no_unit_available"
    label = "triage car" if kind == "triage_car" else "nurse desk"
    detail = (
        f"Every available {label} was offered incident {incident.id} and none accepted."
        if any_tried
        else f"No {label} is available for incident {incident.id}."
    )
    level = priority.risk_level(incident.effective_outcome, incident.risk)
    await escalations.raise_escalation(
        session=session,
        area_id=incident.area_id,
        incident_id=incident.id,
        reason=reason,
        risk=level,
        detail=detail,
        dedupe_key=f"{reason}:{incident.id}:{kind}",
    )
    await _wait_for_unit(incident, kind, level, session=session)
    return None


async def _wait_for_unit(
    incident: Incident, kind: str, level: str, *, session: AsyncSession
) -> None:
    """Queue the incident for the first unit of `kind` that comes free (app/workers.py)."""
    await session.execute(
        insert(DispatchWait)
        .values(
            incident_id=incident.id,
            unit_kind=kind,
            area_id=incident.area_id,
            risk_rank=priority.risk_rank(level),
            since=await db_now(session),
        )
        .on_conflict_do_nothing()
    )


async def _offer(
    incident: Incident, unit: Unit, *, session: AsyncSession, by: Actor | None
) -> Assignment:
    area = await session.get_one(Area, incident.area_id)
    now = await db_now(session)
    assignment = Assignment(
        incident_id=incident.id,
        unit_id=unit.id,
        status="offered",
        offered_at=now,
        expires_at=now + timedelta(seconds=area.ack_timeout_seconds),
        offered_by_id=by.user_id if by else None,
        updated_by_id=by.user_id if by else None,
    )
    session.add(assignment)
    unit.active_assignments += 1
    await session.flush()
    set_committed_value(assignment, "unit", unit)
    if by is None:
        set_committed_value(assignment, "offered_by", None)
    emit(session, events.assignment_event("assignment.offered", assignment, unit, incident))
    emit(session, events.unit_event(unit))
    return assignment


async def dispatch_by_hand(
    incident_id: int,
    kind: str,
    callsign: str | None,
    force: bool,
    *,
    session: AsyncSession,
    actor: Actor,
) -> Assignment:
    if force and actor.role != "supervisor":
        raise AppError(403, "forbidden", "Only a supervisor may force an offer to a busy unit.")
    incident = await _incident_in_area(incident_id, session=session, actor=actor)
    if incident.status == "closed":
        raise AppError(409, "incident_closed", "This incident is closed.")
    if callsign is None:
        offer = await offer_next(incident, kind, session=session, by=actor)
        if offer is None:
            raise AppError(409, "no_unit_available", "No unit of that kind is available now.")
        return offer
    unit = await session.scalar(
        select(Unit)
        .where(Unit.callsign == callsign, Unit.area_id == actor.area_id)
        .with_for_update()
    )
    if unit is None:
        raise AppError(
            422,
            "unknown_unit",
            f"There is no unit {callsign} in your area.",
            [{"field": "unit", "message": "unknown unit"}],
        )
    free = unit.status == "available" and unit.active_assignments == 0
    if not free and not force:
        raise AppError(
            409,
            "unit_busy",
            f"{callsign} is {unit.status.replace('_', ' ')} with "
            f"{unit.active_assignments} assignment(s); a supervisor may force it.",
        )
    if unit.status == "off_duty":
        raise AppError(409, "unit_off_duty", f"{callsign} is off duty.")
    return await _offer(incident, unit, session=session, by=actor)


async def _incident_in_area(incident_id: int, *, session: AsyncSession, actor: Actor) -> Incident:
    # Not locked: rows are locked assignment, unit, incident in that order everywhere else, and
    # taking the incident first here could deadlock against a crew's status change.
    incident = await session.get(Incident, incident_id)
    if incident is None or incident.area_id != actor.area_id:
        raise NotFound(f"Incident {incident_id}")
    return incident


async def _assignment_for_update(
    assignment_id: int, *, session: AsyncSession, actor: Actor
) -> tuple[Assignment, Unit, Incident]:
    assignment = await session.scalar(
        select(Assignment).where(Assignment.id == assignment_id).with_for_update()
    )
    if assignment is None:
        raise NotFound(f"Assignment {assignment_id}")
    unit = await session.scalar(select(Unit).where(Unit.id == assignment.unit_id).with_for_update())
    incident = await session.get_one(Incident, assignment.incident_id)
    assert unit is not None
    if unit.area_id != actor.area_id:
        raise NotFound(f"Assignment {assignment_id}")
    if actor.role != "supervisor" and actor.unit_callsign != unit.callsign:
        raise AppError(
            403, "forbidden", f"Assignment {assignment_id} is for {unit.callsign}, not your unit."
        )
    return assignment, unit, incident


async def _move(
    assignment: Assignment,
    unit: Unit,
    incident: Incident,
    status: str,
    *,
    session: AsyncSession,
    actor: Actor | None,
) -> None:
    """Apply a status change to the assignment, its unit and its incident, with their events."""
    now = await db_now(session)
    assignment.status = status
    assignment.updated_by_id = actor.user_id if actor else None
    if status in ("accepted", "declined", "expired"):
        assignment.responded_at = now
    if status not in ACTIVE:
        unit.active_assignments = max(0, unit.active_assignments - 1)
    if status in UNIT_STATUS_FOR and unit.status != "off_duty":
        unit.status = UNIT_STATUS_FOR[status]
        unit.status_since = now
    await session.flush()
    emit(session, events.assignment_event("assignment.updated", assignment, unit, incident))
    emit(session, events.unit_event(unit))
    statuses = list(
        await session.scalars(
            select(Assignment.status).where(Assignment.incident_id == incident.id)
        )
    )
    new_status = incident_status(statuses, incident.status)
    if new_status != incident.status:
        incident.status = new_status
        if actor:
            incident.updated_by_id = actor.user_id
        await session.flush()
        emit(session, events.incident_event(incident))


def _refuse_move(assignment: Assignment, status: str) -> AppError:
    return AppError(
        409,
        "invalid_transition",
        f"Assignment {assignment.id} is {assignment.status}; it cannot become {status}.",
    )


async def accept(assignment_id: int, *, session: AsyncSession, actor: Actor) -> Assignment:
    assignment, unit, incident = await _assignment_for_update(
        assignment_id, session=session, actor=actor
    )
    if assignment.status in ("accepted", "en_route", "on_scene"):
        return assignment  # a retry: already done
    if assignment.status == "offered" and assignment.expires_at <= await db_now(session):
        raise AppError(409, "offer_expired", "This offer has expired and gone to another unit.")
    if not can_move(assignment.status, "accepted"):
        raise _refuse_move(assignment, "accepted")
    await _move(assignment, unit, incident, "accepted", session=session, actor=actor)
    return assignment


async def decline(
    assignment_id: int, reason: str, *, session: AsyncSession, actor: Actor
) -> Assignment:
    assignment, unit, incident = await _assignment_for_update(
        assignment_id, session=session, actor=actor
    )
    if assignment.status == "declined":
        return assignment
    if not can_move(assignment.status, "declined"):
        raise _refuse_move(assignment, "declined")
    assignment.decline_reason = reason
    await _move(assignment, unit, incident, "declined", session=session, actor=actor)
    await offer_next(incident, unit.kind, session=session)
    return assignment


async def set_status(
    assignment_id: int, status: str, *, session: AsyncSession, actor: Actor
) -> Assignment:
    assignment, unit, incident = await _assignment_for_update(
        assignment_id, session=session, actor=actor
    )
    if assignment.status == status:
        return assignment
    if not can_move(assignment.status, status) or assignment.status == "offered":
        raise _refuse_move(assignment, status)
    await _move(assignment, unit, incident, status, session=session, actor=actor)
    return assignment


async def record_advice(
    assignment_id: int, advice: str, s136_used: bool, *, session: AsyncSession, actor: Actor
) -> Assignment:
    """The nurse desk records its advice to the officer; the request is then done (cleared)."""
    assignment, unit, incident = await _assignment_for_update(
        assignment_id, session=session, actor=actor
    )
    if unit.kind != "nurse_desk":
        raise AppError(409, "not_advice", "Advice is recorded on nurse desk assignments only.")
    if assignment.advice is not None:
        if assignment.advice == advice and assignment.s136_used == s136_used:
            return assignment  # a retry
        raise AppError(409, "already_recorded", "Advice is already recorded for this request.")
    if assignment.status not in ("accepted", "en_route", "on_scene"):
        raise _refuse_move(assignment, "cleared")
    assignment.advice = advice
    assignment.s136_used = s136_used
    assignment.advice_at = await db_now(session)
    await _move(assignment, unit, incident, "cleared", session=session, actor=actor)
    return assignment


async def reassign(
    assignment_id: int,
    callsign: str | None,
    force: bool,
    *,
    session: AsyncSession,
    actor: Actor,
) -> Assignment:
    assignment, unit, incident = await _assignment_for_update(
        assignment_id, session=session, actor=actor
    )
    if not can_move(assignment.status, "cancelled"):
        raise _refuse_move(assignment, "cancelled")
    await _move(assignment, unit, incident, "cancelled", session=session, actor=actor)
    return await dispatch_by_hand(
        incident.id, unit.kind, callsign, force, session=session, actor=actor
    )


async def expire_due_offers(*, session: AsyncSession, limit: int = 50) -> int:
    """Expire offers past their time and offer each incident to the next unit. Claimed with
    SKIP LOCKED, so each due offer is handled by exactly one instance, in its transaction."""
    due = list(
        await session.scalars(
            select(Assignment)
            .where(Assignment.status == "offered", Assignment.expires_at <= func.now())
            .order_by(Assignment.expires_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )
    for assignment in due:
        unit = await session.scalar(
            select(Unit).where(Unit.id == assignment.unit_id).with_for_update()
        )
        incident = await session.get_one(Incident, assignment.incident_id)
        assert unit is not None
        await _move(assignment, unit, incident, "expired", session=session, actor=None)
        await offer_next(incident, unit.kind, session=session)
    return len(due)
