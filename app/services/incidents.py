"""Incidents: intake, the routing decision, overrides, hand-offs, closing and reads (each read
of person data is audited).

Every incident has an owner until it is closed with a reason (app/dispatch/ownership.py): our
units and, when nobody takes it, the supervisors; or the call handlers' desk, which must pass it
on (a hand-off) or close it within the area's task limit, or it is escalated (app/workers.py).
"""

from datetime import datetime, timedelta

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from app import need_to_know, rcrp
from app.auth.actor import Actor
from app.database import db_now
from app.dispatch import ownership
from app.errors import AppError, NotFound, Unprocessable
from app.models import Area, Assignment, DispatchWait, Handoff, Incident, IncidentOverride, User
from app.realtime import events
from app.realtime.outbox import emit
from app.schemas.common import utcnow
from app.schemas.incident import (
    HandoffCreate,
    IncidentClose,
    IncidentCreate,
    IncidentOut,
    OverrideCreate,
    OverrideOut,
)
from app.services import assignments, audit, dispatch, escalations
from app.services.areas import get_by_code, scope_of
from app.services.incident_steps import announce, risk_level, step_of

FUTURE_SKEW = timedelta(minutes=2)
SUPERVISOR_ROLES = frozenset({"supervisor"})


def check_not_future(at: datetime, field: str, *, now: datetime | None = None) -> None:
    """Times are recorded as they happened; a time ahead of now beyond clock skew is refused."""
    if at > (now or utcnow()) + FUTURE_SKEW:
        raise Unprocessable(
            "time_in_future", f"{field} is in the future (more than 2 minutes ahead of now).", field
        )


def to_case(data: IncidentCreate) -> rcrp.Case:
    return rcrp.Case(
        source=data.source,
        category=data.category,
        location_kind=data.location.kind,
        age=data.person.age,
        risk=data.risk.model_dump(),
        context=data.context.model_dump(),
    )


def decide(data: IncidentCreate, area: Area) -> rcrp.Decision:
    return rcrp.decide(to_case(data), rcrp.load_rule_set(area.rule_set), scope_of(area))


def caller_advice_for(outcome: str, incident: Incident, area: Area) -> str:
    """What to tell the caller for an outcome a person chose: the rule set's sentence for it,
    worded for who is calling."""
    return rcrp.caller_advice(
        rcrp.load_rule_set(area.rule_set),
        outcome,
        source=incident.source,
        caller_is_health_professional=incident.context.get("caller_is_health_professional"),
    )


async def _set_desk_task(incident: Incident, area: Area, *, session: AsyncSession) -> None:
    """The desk owes a hand-off (or a close) when the outcome in force sends none of our units."""
    if ownership.desk_owns(dispatch.unit_kinds_needed(incident)):
        if incident.task_due_at is None:
            incident.task_due_at = await db_now(session) + timedelta(
                minutes=area.task_limit_minutes
            )
    else:
        incident.task_due_at = None


async def _area_for(data: IncidentCreate, *, session: AsyncSession, actor: Actor) -> Area:
    area = await get_by_code(data.area or actor.area_code, session=session, field="area")
    if area.id != actor.area_id:
        raise AppError(403, "forbidden", "You may act only in your own area.")
    return area


async def preview(data: IncidentCreate, *, session: AsyncSession, actor: Actor) -> rcrp.Decision:
    area = await _area_for(data, session=session, actor=actor)
    if data.reported_at is not None:
        check_not_future(data.reported_at, "reported_at")
    return decide(data, area)


async def create(data: IncidentCreate, *, session: AsyncSession, actor: Actor) -> Incident:
    area = await _area_for(data, session=session, actor=actor)
    # Defaults to the database's clock, like created_at, so the two agree.
    reported_at = data.reported_at or await db_now(session)
    check_not_future(reported_at, "reported_at")
    decision = decide(data, area)
    incident = Incident(
        area_id=area.id,
        source=data.source,
        category=data.category,
        reported_at=reported_at,
        location_description=data.location.description,
        lat=data.location.lat,
        lon=data.location.lon,
        location_kind=data.location.kind,
        person=data.person.model_dump(),
        circumstances=data.circumstances,
        caller=data.caller.model_dump(),
        risk=data.risk.model_dump(),
        context=data.context.model_dump(),
        status="open",
        decision=decision.as_dict(),
        effective_outcome=decision.outcome,
        caller_advice=decision.caller_advice,
        created_by_id=actor.user_id,
        updated_by_id=actor.user_id,
    )
    await _set_desk_task(incident, area, session=session)
    session.add(incident)
    await session.flush()
    audit.record(
        session=session,
        actor=actor,
        action="incident.create",
        subject_type="incident",
        subject_id=incident.id,
        detail={"outcome": decision.outcome, "rules_version": decision.rules_version},
    )
    offers = await dispatch.dispatch_needed(incident, session=session, new=True)
    offered_kinds = {offer.unit.kind for offer in offers}
    waits = [
        DispatchWait(incident_id=incident.id, unit_kind=kind)
        for kind in dispatch.unit_kinds_needed(incident)
        if kind not in offered_kinds
    ]
    step = step_of(incident, [o.status for o in offers], [w.unit_kind for w in waits], [])
    emit(session, events.incident_event(incident, step, risk_level(incident)))
    # Everything the response shows is already in hand (the area and the user were read in this
    # session): fill the relationships instead of reading the incident back.
    set_committed_value(incident, "area", area)
    set_committed_value(incident, "created_by", await session.get_one(User, actor.user_id))
    set_committed_value(incident, "closed_by", None)
    set_committed_value(incident, "overrides", [])
    set_committed_value(incident, "assignments", offers)
    set_committed_value(incident, "handoffs", [])
    set_committed_value(incident, "waits", waits)
    return incident


def _with_relations(query: Select[tuple[Incident]]) -> Select[tuple[Incident]]:
    # Many-to-one joined into the same query, each collection in one more: three queries.
    return query.options(
        joinedload(Incident.area, innerjoin=True),
        joinedload(Incident.created_by, innerjoin=True),
        joinedload(Incident.closed_by),
        selectinload(Incident.overrides).joinedload(IncidentOverride.user, innerjoin=True),
        selectinload(Incident.assignments).options(
            joinedload(Assignment.unit, innerjoin=True), joinedload(Assignment.offered_by)
        ),
        selectinload(Incident.handoffs).joinedload(Handoff.recorded_by, innerjoin=True),
        selectinload(Incident.waits),
    )


async def _find(incident_id: int, *, session: AsyncSession) -> Incident | None:
    return await session.scalar(
        _with_relations(select(Incident).where(Incident.id == incident_id)).execution_options(
            populate_existing=True
        )
    )


async def _load(incident_id: int, *, session: AsyncSession) -> Incident:
    incident = await _find(incident_id, session=session)
    if incident is None:
        raise NotFound(f"Incident {incident_id}")
    return incident


async def may_read(incident: Incident, *, session: AsyncSession, actor: Actor) -> bool:
    """Need to know (app/need_to_know.py): the area's call handlers and supervisors; a crew or
    the nurse desk once its unit has taken the job, until the area's `crew_access_hours` after
    it cleared it."""
    if incident.area_id != actor.area_id:
        return False
    if actor.role in ("call_handler", "supervisor"):
        return True
    if actor.role not in need_to_know.UNIT_ROLES:
        return False
    return await assignments.unit_may_see(
        incident.id,
        actor.unit_callsign,
        session=session,
        now=await db_now(session),
        access=timedelta(hours=incident.area.crew_access_hours),
    )


async def get(incident_id: int, *, session: AsyncSession, actor: Actor) -> Incident:
    incident = await _find(incident_id, session=session)
    # Another area's incident, or one the unit has no (or no longer) need to know, answers as if
    # it did not exist: its existence is not disclosed. The attempt is audited all the same.
    if incident is None or not await may_read(incident, session=session, actor=actor):
        raise await audit.denied(
            NotFound(f"Incident {incident_id}"),
            session=session,
            actor=actor,
            action="incident.read",
            subject_id=incident_id,
        )
    audit.record(
        session=session,
        actor=actor,
        action="incident.read",
        subject_type="incident",
        subject_id=incident.id,
    )
    return incident


async def list_page(
    *,
    session: AsyncSession,
    actor: Actor,
    statuses: list[str] | None,
    mine: bool,
    since: datetime | None,
    limit: int,
    before_id: int | None,
) -> tuple[list[Incident], int | None]:
    """Newest first; returns the page and the id to continue before, if there is more."""
    query = select(Incident).where(Incident.area_id == actor.area_id)
    if statuses is not None:
        query = query.where(Incident.status.in_(statuses))
    if mine:
        query = query.where(Incident.created_by_id == actor.user_id)
    if since is not None:
        query = query.where(Incident.created_at >= since)
    if before_id is not None:
        query = query.where(Incident.id < before_id)
    rows = list(
        await session.scalars(_with_relations(query.order_by(Incident.id.desc()).limit(limit + 1)))
    )
    page, more = rows[:limit], len(rows) > limit
    if page:
        audit.record(
            session=session,
            actor=actor,
            action="incident.list",
            subject_type="incident",
            detail={"incident_ids": [i.id for i in page]},
        )
    return page, (page[-1].id if more else None)


async def override(
    incident_id: int, data: OverrideCreate, *, session: AsyncSession, actor: Actor
) -> Incident:
    if actor.role not in SUPERVISOR_ROLES and not data.reason:
        raise Unprocessable(
            "reason_required", "A call handler's override needs a reason.", "reason"
        )
    live = await dispatch.live_assignments_for_update(incident_id, session=session, actor=actor)
    incident = await _incident_for_update(
        incident_id, session=session, actor=actor, action="incident.override"
    )
    if incident.status == "closed":
        raise AppError(409, "incident_closed", "A closed incident's decision cannot be overridden.")
    area = await session.get_one(Area, incident.area_id)
    advice = caller_advice_for(data.outcome, incident, area)
    session.add(
        IncidentOverride(
            incident_id=incident.id,
            outcome=data.outcome,
            previous_outcome=incident.effective_outcome,
            reason=data.reason or None,
            caller_advice=advice,
            user_id=actor.user_id,
        )
    )
    incident.effective_outcome = data.outcome
    incident.caller_advice = advice
    incident.updated_by_id = actor.user_id
    audit.record(
        session=session,
        actor=actor,
        action="incident.override",
        subject_type="incident",
        subject_id=incident.id,
        # The reason is kept on the override row (pseudonymised with the record), not here.
        detail={"from": incident.decision["outcome"], "to": data.outcome},
    )
    await session.flush()
    # Units the new outcome no longer calls for are stood down (their crews see "withdrawn");
    # units it now calls for are offered it.
    await dispatch.withdraw_unneeded(incident, live, session=session, actor=actor)
    await dispatch.dispatch_needed(incident, session=session)
    await _set_desk_task(incident, area, session=session)
    await session.flush()
    override_info = {"outcome": data.outcome, "reason": data.reason or None, "by": actor.username}
    await announce(incident, session=session, override=override_info)
    return await _load(incident.id, session=session)


async def _incident_for_update(
    incident_id: int, *, session: AsyncSession, actor: Actor, action: str
) -> Incident:
    # Callers that also change assignments lock those (and their units) first: the order
    # assignment, unit, incident is the same on every path, so none can deadlock. The area is in
    # the statement's condition, so another area's row is never locked.
    incident = await session.scalar(
        select(Incident)
        .where(Incident.id == incident_id, Incident.area_id == actor.area_id)
        .with_for_update()
    )
    if incident is None:
        raise await audit.denied(
            NotFound(f"Incident {incident_id}"),
            session=session,
            actor=actor,
            action=action,
            subject_id=incident_id,
        )
    return incident


async def record_handoff(
    incident_id: int, data: HandoffCreate, *, session: AsyncSession, actor: Actor
) -> Incident:
    """The desk passed the incident to another agency; its task is done."""
    incident = await _incident_for_update(
        incident_id, session=session, actor=actor, action="incident.handoff"
    )
    now = await db_now(session)
    at = data.at or now
    check_not_future(at, "at", now=now)
    if at < incident.reported_at:
        raise Unprocessable(
            "time_out_of_order", "A hand-off cannot come before the call was reported.", "at"
        )
    existing = await session.scalar(
        select(Handoff).where(
            Handoff.incident_id == incident.id,
            Handoff.to == data.to,
            Handoff.reference.is_not_distinct_from(data.reference),
        )
    )
    if existing is not None:
        return await _load(incident.id, session=session)  # a retry: recorded once
    if incident.status == "closed":
        raise AppError(409, "incident_closed", "This incident is closed.")
    session.add(
        Handoff(
            incident_id=incident.id,
            to=data.to,
            reference=data.reference or None,
            at=at,
            recorded_by_id=actor.user_id,
        )
    )
    incident.task_due_at = None
    incident.updated_by_id = actor.user_id
    await session.flush()
    audit.record(
        session=session,
        actor=actor,
        action="incident.handoff",
        subject_type="incident",
        subject_id=incident.id,
        detail={"to": data.to},
    )
    await escalations.resolve(
        session=session,
        incident_id=incident.id,
        reasons=("handoff_overdue",),
        action=f"Passed to {ownership.HANDOFF_LABELS[data.to]} by {actor.username}.",
        by=actor,
    )
    await announce(incident, session=session)
    return await _load(incident.id, session=session)


async def close(
    incident_id: int, data: IncidentClose, *, session: AsyncSession, actor: Actor
) -> Incident:
    """Close with a reason: refused while a unit has it; live offers are withdrawn, waits
    dropped, and escalations about dispatching it resolved (recorded as this person's action)."""
    if data.reason == "other" and not data.note:
        raise Unprocessable("note_required", "Say why it is closed (reason: other).", "note")
    # Assignment and unit rows first (the lock order every path keeps), then the incident.
    live = await dispatch.live_assignments_for_update(incident_id, session=session, actor=actor)
    incident = await _incident_for_update(
        incident_id, session=session, actor=actor, action="incident.close"
    )
    if incident.status == "closed":
        if incident.close_reason == data.reason and incident.close_note == (data.note or None):
            return await _load(incident.id, session=session)  # a retry
        raise AppError(409, "incident_closed", "This incident is already closed.")
    on_it = sorted(unit.callsign for a, unit in live if a.status in ownership.ACCEPTED)
    if on_it:
        raise AppError(
            409,
            "unit_on_incident",
            f"{', '.join(on_it)} still {'has' if len(on_it) == 1 else 'have'} this incident; "
            "it closes when the unit clears.",
        )
    for assignment, unit in live:
        await dispatch.withdraw(assignment, unit, incident, session=session, actor=actor)
    await dispatch.stop_waiting(incident.id, session=session)
    incident.status = "closed"
    incident.closed_at = await db_now(session)
    incident.close_reason = data.reason
    incident.close_note = data.note or None
    incident.closed_by_id = actor.user_id
    incident.task_due_at = None
    incident.updated_by_id = actor.user_id
    await session.flush()
    audit.record(
        session=session,
        actor=actor,
        action="incident.close",
        subject_type="incident",
        subject_id=incident.id,
        detail={"reason": data.reason},
    )
    await escalations.resolve(
        session=session,
        incident_id=incident.id,
        reasons=escalations.DESK_REASONS,
        action=f"Incident closed ({data.reason.replace('_', ' ')}) by {actor.username}.",
        by=actor,
    )
    await announce(incident, session=session)
    return await _load(incident.id, session=session)


def _override_out(row: IncidentOverride) -> OverrideOut:
    return OverrideOut(
        outcome=row.outcome,
        police_attendance=row.outcome in rcrp.POLICE_OUTCOMES,
        previous_outcome=row.previous_outcome,
        reason=row.reason,
        caller_advice=row.caller_advice,
        by=row.user.username,
        at=row.created_at,
    )


def to_out(incident: Incident, *, role: str) -> IncidentOut:
    """`role`: the viewer's (the nurse's advice is shown only to those with need to know)."""
    overrides = [_override_out(o) for o in incident.overrides]
    return IncidentOut.model_validate(
        {
            "id": incident.id,
            "area": incident.area.code,
            "source": incident.source,
            "category": incident.category,
            "reported_at": incident.reported_at,
            "location": {
                "description": incident.location_description,
                "lat": incident.lat,
                "lon": incident.lon,
                "kind": incident.location_kind,
            },
            "person": incident.person,
            "circumstances": incident.circumstances,
            "caller": incident.caller or {},
            "risk": incident.risk,
            "context": incident.context,
            "status": incident.status,
            "decision": {**incident.decision, "overridden": bool(overrides)},
            "effective_outcome": incident.effective_outcome,
            "override": overrides[-1] if overrides else None,
            "overrides": overrides,
            "assignments": [
                assignments.out(
                    a, a.unit, a.offered_by.username if a.offered_by else None, role=role
                )
                for a in incident.assignments
            ],
            "caller_advice": incident.caller_advice,
            "risk_level": risk_level(incident),
            "handoffs": [
                {"to": h.to, "reference": h.reference, "at": h.at, "by": h.recorded_by.username}
                for h in incident.handoffs
            ],
            "task_due_at": incident.task_due_at,
            "next_step": step_of(
                incident,
                [a.status for a in incident.assignments],
                [w.unit_kind for w in incident.waits],
                [h.to for h in incident.handoffs],
            ).as_dict(),
            "closed_at": incident.closed_at,
            "close_reason": incident.close_reason,
            "close_note": incident.close_note,
            "closed_by": incident.closed_by.username if incident.closed_by else None,
            "created_by": incident.created_by.username,
            "created_at": incident.created_at,
            "updated_at": incident.updated_at,
        }
    )
