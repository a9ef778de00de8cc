"""Offering incidents to units, and what crews do with the offers.

Only units that can take an offer get one: `available`, holding nothing, and with a crew member
connected (a live websocket on any instance, `unit_presence` renewed within the presence window).
With none, the incident is escalated at once and waits (`dispatch_waits`); the oldest,
highest-risk waiting incident is offered to the first unit of its kind that comes free
(`offer_waiting`, a worker job). An accepted job that stops moving is escalated (`stale_job`).

Locking, so that two dispatches never take the same unit: one statement ranks the free units
(app/dispatch/ranking.py) and locks the best with `ORDER BY ... LIMIT 1 FOR UPDATE SKIP LOCKED`;
PostgreSQL re-checks the availability on the locked row and moves on to the next if it has changed.
The unit taken gets `active_assignments + 1` in the same transaction. A concurrent dispatch either
skips the locked row or, once it commits, sees the unit busy. Rows are always locked assignment
first, then unit, then incident, so paths cannot deadlock.
"""

from datetime import timedelta

from sqlalchemy import Float, Interval, bindparam, delete, exists, func, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from app.auth.actor import Actor
from app.database import db_now
from app.dispatch import ownership, priority, ranking
from app.dispatch.transitions import (
    ACTIVE,
    STALE_WATCHED,
    UNIT_STATUS_FOR,
    can_move,
    close_reason_when_cleared,
    incident_status,
)
from app.errors import AppError, NotFound
from app.models import Area, Assignment, DispatchWait, Incident, Unit, UnitPresence
from app.realtime import events
from app.realtime.outbox import emit
from app.services import audit, escalations, incident_steps

# A unit that let an offer go (declined, expired, withdrawn) is not offered the same incident
# again for this long, so an offer moves on to the next unit first; after it, a waiting incident
# may go back to it.
REOFFER_AFTER = timedelta(minutes=2)
# A unit counts as connected while its crew's presence was renewed this recently.
PRESENCE_WINDOW = timedelta(seconds=30)
UNIT_LABELS = {"triage_car": "triage car", "nurse_desk": "nurse desk"}


unit_kinds_needed = incident_steps.unit_kinds_needed


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


_RECENTLY_LET_GO = select(Assignment.unit_id).where(
    Assignment.incident_id == bindparam("incident_id"),
    or_(
        Assignment.status.in_(ACTIVE),
        Assignment.updated_at > func.now() - bindparam("reoffer_after", type_=Interval),
    ),
)
_CONNECTED = exists().where(
    UnitPresence.unit_id == Unit.id,
    UnitPresence.seen_at > func.now() - bindparam("presence_window", type_=Interval),
)
# One statement, built once (so its compiled form is cached): rank the units that can take the
# incident now and lock the best, skipping any another dispatch holds.
_BEST_FREE_UNIT = (
    select(Unit)
    .where(
        Unit.area_id == bindparam("area_id"),
        Unit.kind == bindparam("kind"),
        Unit.status == "available",
        Unit.active_assignments == 0,
        _CONNECTED,
        Unit.id.not_in(_RECENTLY_LET_GO),
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


async def best_free_unit(incident: Incident, kind: str, *, session: AsyncSession) -> Unit | None:
    return await session.scalar(
        _BEST_FREE_UNIT,
        {
            "area_id": incident.area_id,
            "kind": kind,
            "incident_id": incident.id,
            "incident_lat": incident.lat,
            "incident_lon": incident.lon,
            "reoffer_after": REOFFER_AFTER,
            "presence_window": PRESENCE_WINDOW,
        },
    )


async def offer_next(
    incident: Incident, kind: str, *, session: AsyncSession, by: Actor | None = None
) -> Assignment | None:
    """Offer to the best unit of `kind` that can take it now; with none, escalate at once and
    queue the incident for the first one that comes free."""
    unit = await best_free_unit(incident, kind, session=session)
    if unit is not None:
        return await _offer(incident, unit, session=session, by=by)
    any_tried = await session.scalar(
        select(func.count())
        .select_from(Assignment)
        .join(Unit, Unit.id == Assignment.unit_id)
        .where(Assignment.incident_id == incident.id, Unit.kind == kind)
    )
    reason = "no_unit_accepted" if any_tried else "no_unit_available"
    label = UNIT_LABELS.get(kind, kind)
    detail = (
        f"No {label} accepted incident {incident.id}; it is offered to the first one free."
        if any_tried
        else f"No {label} with a crew signed in is free for incident {incident.id}; "
        "it is offered to the first one free."
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
    return None


async def _offer(
    incident: Incident,
    unit: Unit,
    *,
    session: AsyncSession,
    by: Actor | None,
    forced: bool = False,
) -> Assignment:
    area = await session.get_one(Area, incident.area_id)
    now = await db_now(session)
    limit = priority.ack_timeout_seconds(
        incident.effective_outcome,
        standard=area.ack_timeout_seconds,
        urgent=area.urgent_ack_timeout_seconds,
    )
    assignment = Assignment(
        incident_id=incident.id,
        unit_id=unit.id,
        status="offered",
        offered_at=now,
        expires_at=now + timedelta(seconds=limit),
        offered_by_id=by.user_id if by else None,
        updated_by_id=by.user_id if by else None,
    )
    session.add(assignment)
    unit.active_assignments += 1
    await session.flush()
    await stop_waiting(incident.id, session=session, kind=unit.kind)
    set_committed_value(assignment, "unit", unit)
    if by is None:
        set_committed_value(assignment, "offered_by", None)
    audit.record(
        session=session,
        actor=by,
        action="assignment.offered",
        subject_type="incident",
        subject_id=incident.id,
        detail={
            "assignment_id": assignment.id,
            "unit": unit.callsign,
            "by_hand": by is not None,
            "forced": forced,
        },
    )
    emit(session, events.assignment_event("assignment.offered", assignment, unit, incident))
    emit(session, events.unit_event(unit))
    return assignment


async def stop_waiting(incident_id: int, *, session: AsyncSession, kind: str | None = None) -> None:
    query = delete(DispatchWait).where(DispatchWait.incident_id == incident_id)
    if kind is not None:
        query = query.where(DispatchWait.unit_kind == kind)
    await session.execute(query)


async def offer_waiting(*, session: AsyncSession, limit: int = 20) -> int:
    """Worker job: offer waiting incidents, oldest highest-risk first, to units that have come
    free (cleared a job, came on duty, signed in). Returns how many offers were made.

    No escalation here: each waiting incident was escalated when it began to wait, and that
    escalation is repeated until a supervisor owns it."""
    waits = list(
        await session.scalars(
            select(DispatchWait)
            .order_by(DispatchWait.risk_rank, DispatchWait.since)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )
    offered = 0
    for wait in waits:
        incident = await session.get_one(Incident, wait.incident_id)
        if incident.status == "closed" or wait.unit_kind not in unit_kinds_needed(incident):
            await session.delete(wait)
            continue
        unit = await best_free_unit(incident, wait.unit_kind, session=session)
        if unit is not None:
            await _offer(incident, unit, session=session, by=None)
            await incident_steps.announce(incident, session=session)
            offered += 1
    await session.flush()
    return offered


async def escalate_stale_jobs(*, session: AsyncSession, limit: int = 50) -> int:
    """Worker job: an accepted job with no status change within the area's limit is escalated
    once (re-armed by the job's next change)."""
    now = await db_now(session)
    due = (
        await session.execute(
            select(Assignment, Unit, Incident)
            .join(Unit, Unit.id == Assignment.unit_id)
            .join(Incident, Incident.id == Assignment.incident_id)
            .where(Assignment.stale_at <= now)
            .order_by(Assignment.stale_at)
            .limit(limit)
            .with_for_update(of=Assignment, skip_locked=True)
        )
    ).all()
    for assignment, unit, incident in due:
        assignment.stale_at = None
        minutes = int((now - assignment.updated_at).total_seconds() // 60)
        await escalations.raise_escalation(
            session=session,
            area_id=incident.area_id,
            incident_id=incident.id,
            reason="stale_job",
            risk=priority.risk_level(incident.effective_outcome, incident.risk),
            detail=f"{unit.callsign} has been {assignment.status.replace('_', ' ')} on incident "
            f"{incident.id} for {minutes} minutes with no update.",
            dedupe_key=f"stale_job:{assignment.id}",
        )
    await session.flush()
    return len(due)


async def escalate_overdue_handoffs(*, session: AsyncSession, limit: int = 50) -> int:
    """Worker job: an incident the desk has not passed on (or closed) within the task limit is
    escalated; the escalation then repeats until a supervisor owns it."""
    now = await db_now(session)
    due = list(
        await session.scalars(
            select(Incident)
            .where(Incident.task_due_at <= now, Incident.status != "closed")
            .order_by(Incident.task_due_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )
    for incident in due:
        incident.task_due_at = None
        target = ownership.suggested_handoff(
            incident.effective_outcome,
            incident.decision["responders"],
            incident.decision["outcome"],
        )
        owed = (
            f"passed to {ownership.HANDOFF_LABELS[target]}"
            if target
            else "closed after advising the caller"
        )
        await escalations.raise_escalation(
            session=session,
            area_id=incident.area_id,
            incident_id=incident.id,
            reason="handoff_overdue",
            risk=priority.risk_level(incident.effective_outcome, incident.risk),
            detail=f"Incident {incident.id} has not been {owed} within the desk's time limit.",
            dedupe_key=f"handoff_overdue:{incident.id}",
        )
    await session.flush()
    return len(due)


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
    incident = await _incident_in_area(
        incident_id, session=session, actor=actor, action="assignment.dispatch"
    )
    if incident.status == "closed":
        raise AppError(409, "incident_closed", "This incident is closed.")
    if callsign is None:
        unit_found = await best_free_unit(incident, kind, session=session)
        if unit_found is None:
            raise AppError(
                409,
                "no_unit_available",
                "No unit of that kind with a crew signed in is free now.",
            )
        return await _offer(incident, unit_found, session=session, by=actor)
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
    return await _offer(incident, unit, session=session, by=actor, forced=not free)


async def _incident_in_area(
    incident_id: int, *, session: AsyncSession, actor: Actor, action: str
) -> Incident:
    # Not locked: rows are locked assignment, unit, incident in that order everywhere else, and
    # taking the incident first here could deadlock against a crew's status change.
    incident = await session.get(Incident, incident_id)
    if incident is None or incident.area_id != actor.area_id:
        raise await audit.denied(
            NotFound(f"Incident {incident_id}"),
            session=session,
            actor=actor,
            action=action,
            subject_id=incident_id,
        )
    return incident


_ASSIGNMENT_OWNER = select(Assignment.incident_id, Unit.area_id, Unit.callsign).join(
    Unit, Unit.id == Assignment.unit_id
)


async def _assignment_for_update(
    assignment_id: int,
    *,
    session: AsyncSession,
    actor: Actor,
    action: str,
    dispatching: bool = False,
) -> tuple[Assignment, Unit, Incident]:
    """The assignment, its unit and its incident, the first two locked, for one who may act on
    it: the unit's own crew (or nurse desk), a supervisor, and, when `dispatching` (reassigning
    it), the call handlers' desk. Who it belongs to is checked on an unlocked read first, so a
    refused request never holds (or waits for) a lock; the refusal names no unit."""
    owner = (await session.execute(_ASSIGNMENT_OWNER.where(Assignment.id == assignment_id))).first()
    if owner is None or owner.area_id != actor.area_id:
        raise await audit.denied(
            NotFound(f"Assignment {assignment_id}"),
            session=session,
            actor=actor,
            action=action,
            subject_type="incident" if owner else "assignment",
            subject_id=owner.incident_id if owner else assignment_id,
            detail={"assignment_id": assignment_id},
        )
    allowed = (
        actor.role == "supervisor"
        or (dispatching and actor.role == "call_handler")
        or (actor.unit_callsign is not None and actor.unit_callsign == owner.callsign)
    )
    if not allowed:
        raise await audit.denied(
            AppError(
                403,
                "forbidden",
                f"Assignment {assignment_id} is not your unit's: only its own crew or a "
                "supervisor may act on it.",
            ),
            session=session,
            actor=actor,
            action=action,
            subject_id=owner.incident_id,
            detail={"assignment_id": assignment_id},
        )
    assignment = await session.scalar(
        select(Assignment).where(Assignment.id == assignment_id).with_for_update()
    )
    assert assignment is not None  # assignments are never deleted
    unit = await session.scalar(select(Unit).where(Unit.id == assignment.unit_id).with_for_update())
    assert unit is not None
    incident = await session.get_one(Incident, assignment.incident_id)
    return assignment, unit, incident


async def live_assignments_for_update(
    incident_id: int, *, session: AsyncSession, actor: Actor
) -> list[tuple[Assignment, Unit]]:
    """The incident's active assignments and their units, locked in the order every path uses
    (assignments, then units), before the caller locks the incident. Only in the actor's area:
    the area is in the statement's condition, so another area's rows are never locked."""
    live = list(
        await session.scalars(
            select(Assignment)
            .join(Incident, Incident.id == Assignment.incident_id)
            .where(
                Assignment.incident_id == incident_id,
                Assignment.status.in_(ACTIVE),
                Incident.area_id == actor.area_id,
            )
            .order_by(Assignment.id)
            .with_for_update(of=Assignment)
        )
    )
    if not live:
        return []
    units = {
        u.id: u
        for u in await session.scalars(
            select(Unit)
            .where(Unit.id.in_({a.unit_id for a in live}))
            .order_by(Unit.id)
            .with_for_update()
        )
    }
    return [(a, units[a.unit_id]) for a in live]


async def _move(
    assignment: Assignment,
    unit: Unit,
    incident: Incident,
    status: str,
    *,
    session: AsyncSession,
    actor: Actor | None,
    detail: dict[str, object] | None = None,
) -> None:
    """Apply a status change to the assignment, its unit and its incident, with their events and
    an audit row (by the actor, or the service itself)."""
    now = await db_now(session)
    assignment.status = status
    assignment.updated_by_id = actor.user_id if actor else None
    if status in ("accepted", "declined", "expired"):
        assignment.responded_at = now
    if status in STALE_WATCHED:
        area = await session.get_one(Area, incident.area_id)
        assignment.stale_at = now + timedelta(minutes=area.stale_job_minutes)
    else:
        assignment.stale_at = None
    if status not in ACTIVE:
        unit.active_assignments = max(0, unit.active_assignments - 1)
    if status in UNIT_STATUS_FOR and unit.status != "off_duty":
        unit.status = UNIT_STATUS_FOR[status]
        unit.status_since = now
    await session.flush()
    audit.record(
        session=session,
        actor=actor,
        action=f"assignment.{status}",
        subject_type="incident",
        subject_id=incident.id,
        detail={"assignment_id": assignment.id, "unit": unit.callsign, **(detail or {})},
    )
    emit(session, events.assignment_event("assignment.updated", assignment, unit, incident))
    emit(session, events.unit_event(unit))
    await _resolve_escalations_after(assignment, unit, incident, status, session=session, by=actor)
    statuses = list(
        await session.scalars(
            select(Assignment.status).where(Assignment.incident_id == incident.id)
        )
    )
    waiting = await session.scalar(select(exists().where(DispatchWait.incident_id == incident.id)))
    # An incident still waiting for another unit is not over when this one clears.
    new_status = incident_status(statuses, incident.status, waiting=bool(waiting))
    if new_status != incident.status:
        incident.status = new_status
        if actor:
            incident.updated_by_id = actor.user_id
        if new_status == "closed":
            incident.closed_at = now
            incident.close_reason = close_reason_when_cleared(unit.kind)
            incident.closed_by_id = actor.user_id if actor else None
            incident.task_due_at = None
            audit.record(
                session=session,
                actor=actor,
                action="incident.close",
                subject_type="incident",
                subject_id=incident.id,
                detail={"reason": incident.close_reason, "when_cleared": True},
            )
        await session.flush()
        await incident_steps.announce(incident, session=session)


async def _resolve_escalations_after(
    assignment: Assignment,
    unit: Unit,
    incident: Incident,
    status: str,
    *,
    session: AsyncSession,
    by: Actor | None,
) -> None:
    """A situation an escalation was about is over: close it, saying what happened."""
    if status == "accepted":
        await escalations.resolve(
            session=session,
            incident_id=incident.id,
            reasons=("no_unit_available", "no_unit_accepted"),
            action=f"{unit.callsign} accepted the incident.",
            by=by,
        )
    else:
        await escalations.resolve(
            session=session,
            incident_id=incident.id,
            reasons=("stale_job",),
            action=f"{unit.callsign} updated the job: {status.replace('_', ' ')}.",
            dedupe_key=f"stale_job:{assignment.id}",
            by=by,
        )


def _refuse_move(assignment: Assignment, status: str) -> AppError:
    return AppError(
        409,
        "invalid_transition",
        f"Assignment {assignment.id} is {assignment.status}; it cannot become {status}.",
    )


async def accept(assignment_id: int, *, session: AsyncSession, actor: Actor) -> Assignment:
    assignment, unit, incident = await _assignment_for_update(
        assignment_id, session=session, actor=actor, action="assignment.accept"
    )
    if assignment.status in ("accepted", "en_route", "on_scene"):
        return assignment  # a retry: already done
    if assignment.status == "offered" and assignment.expires_at <= await db_now(session):
        raise AppError(409, "offer_expired", "This offer has expired and gone to another unit.")
    if assignment.status == "withdrawn":
        raise AppError(
            409, "offer_withdrawn", "This offer was withdrawn: the incident no longer needs you."
        )
    if not can_move(assignment.status, "accepted"):
        raise _refuse_move(assignment, "accepted")
    await _move(assignment, unit, incident, "accepted", session=session, actor=actor)
    return assignment


async def decline(
    assignment_id: int, reason: str, *, session: AsyncSession, actor: Actor
) -> Assignment:
    assignment, unit, incident = await _assignment_for_update(
        assignment_id, session=session, actor=actor, action="assignment.decline"
    )
    if assignment.status == "declined":
        return assignment
    if not can_move(assignment.status, "declined"):
        raise _refuse_move(assignment, "declined")
    assignment.decline_reason = reason
    await _move(assignment, unit, incident, "declined", session=session, actor=actor)
    await offer_next(incident, unit.kind, session=session)
    # Offered to the next unit, or waiting: the desk's view of what it needs has changed.
    await incident_steps.announce(incident, session=session)
    return assignment


async def set_status(
    assignment_id: int, status: str, *, session: AsyncSession, actor: Actor
) -> Assignment:
    assignment, unit, incident = await _assignment_for_update(
        assignment_id, session=session, actor=actor, action="assignment.status"
    )
    if assignment.status == status:
        return assignment
    if not can_move(assignment.status, status) or assignment.status == "offered":
        raise _refuse_move(assignment, status)
    await _move(assignment, unit, incident, status, session=session, actor=actor)
    return assignment


async def withdraw(
    assignment: Assignment,
    unit: Unit,
    incident: Incident,
    *,
    session: AsyncSession,
    actor: Actor | None,
) -> None:
    """Stand a unit down from an incident that no longer needs it (its crew sees "withdrawn");
    a unit already on scene stays until it clears."""
    if assignment.status == "on_scene" or not can_move(assignment.status, "withdrawn"):
        return
    await _move(assignment, unit, incident, "withdrawn", session=session, actor=actor)


async def withdraw_unneeded(
    incident: Incident,
    live: list[tuple[Assignment, Unit]],
    *,
    session: AsyncSession,
    actor: Actor,
) -> None:
    """After an override: withdraw the units the outcome in force no longer calls for, and stop
    waiting for kinds it no longer needs."""
    needed = set(unit_kinds_needed(incident))
    for assignment, unit in live:
        if unit.kind not in needed:
            await withdraw(assignment, unit, incident, session=session, actor=actor)
    for kind in ("triage_car", "nurse_desk"):
        if kind not in needed:
            await stop_waiting(incident.id, session=session, kind=kind)


async def record_advice(
    assignment_id: int, advice: str, s136_used: bool, *, session: AsyncSession, actor: Actor
) -> Assignment:
    """The nurse desk records its advice to the officer; the request is then done (cleared)."""
    assignment, unit, incident = await _assignment_for_update(
        assignment_id, session=session, actor=actor, action="assignment.advice"
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
    await _move(
        assignment,
        unit,
        incident,
        "cleared",
        session=session,
        actor=actor,
        detail={"advice": True, "s136_used": s136_used},
    )
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
        assignment_id, session=session, actor=actor, action="assignment.reassign", dispatching=True
    )
    if not can_move(assignment.status, "cancelled"):
        raise _refuse_move(assignment, "cancelled")
    await _move(
        assignment,
        unit,
        incident,
        "cancelled",
        session=session,
        actor=actor,
        detail={"reassigned": True},
    )
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
        await incident_steps.announce(incident, session=session)
    return len(due)


async def has_job(unit: Unit, *, session: AsyncSession) -> bool:
    """Whether the unit holds an accepted job (it must clear it before it is free again)."""
    found = await session.scalar(
        select(
            exists().where(
                Assignment.unit_id == unit.id,
                Assignment.status.in_(ownership.ACCEPTED),
            )
        )
    )
    return bool(found)
