"""Escalations: what a supervisor must own until it is resolved.

Raised by the service (nobody to offer an incident to, an offer nobody took, a hand-off not done
in time, a job that stopped moving, a clock breached, a place that refused someone, a possible
duplicate detention). Each is announced at once, then again every `escalation_repeat_seconds`
of its area until a supervisor acknowledges it with what was done, or the service sees the
situation resolve (which it records as the action, with no supervisor named).

The same situation is never open twice: `dedupe_key` with a partial unique index, so two
instances raising it at once make one row.
"""

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, case, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.actor import Actor
from app.database import db_now
from app.dispatch.priority import RISK_LEVELS
from app.errors import AppError, NotFound
from app.models import Area, Escalation, User
from app.realtime.outbox import PendingEvent, emit
from app.schemas.escalation import EscalationOut
from app.services import audit

# Who hears about which escalation besides supervisors: the call handlers' desk owns dispatch
# and hand-offs; detention matters stay with supervisors (person data, need to know).
DESK_REASONS = frozenset({"no_unit_available", "no_unit_accepted", "handoff_overdue", "stale_job"})


def _event(kind: str, escalation: Escalation, acknowledged_by: str | None) -> PendingEvent:
    return PendingEvent(
        type=f"escalation.{kind}",
        area_id=escalation.area_id,
        incident_id=escalation.incident_id,
        audience=["call_handler"] if escalation.reason in DESK_REASONS else [],
        data={
            "escalation_id": escalation.id,
            "incident_id": escalation.incident_id,
            "reason": escalation.reason,
            "risk": escalation.risk,
            "detail": escalation.detail,
            "raised_at": escalation.raised_at.isoformat(),
            "announced_count": escalation.announced_count,
            "acknowledged_at": (
                escalation.acknowledged_at.isoformat() if escalation.acknowledged_at else None
            ),
            "acknowledged_by": acknowledged_by,
            "action": escalation.action,
        },
    )


async def raise_escalation(
    *,
    session: AsyncSession,
    area_id: int,
    incident_id: int | None,
    reason: str,
    risk: str,
    detail: str,
    dedupe_key: str,
) -> Escalation | None:
    """Open an escalation and announce it, unless the same situation is already open (then
    None). `detail` is read on the dashboard and by call handlers: never person data."""
    if risk not in RISK_LEVELS:
        raise ValueError(f"unknown risk level {risk!r}")
    now = await db_now(session)
    repeat = await session.scalar(select(Area.escalation_repeat_seconds).where(Area.id == area_id))
    escalation = await session.scalar(
        insert(Escalation)
        .values(
            area_id=area_id,
            incident_id=incident_id,
            reason=reason,
            risk=risk,
            detail=detail,
            dedupe_key=dedupe_key,
            raised_at=now,
            announced_count=1,
            next_announce_at=now + timedelta(seconds=repeat or 120),
        )
        .on_conflict_do_nothing(
            index_elements=["area_id", "dedupe_key"],
            index_where=Escalation.acknowledged_at.is_(None),
        )
        .returning(Escalation)
    )
    if escalation is not None:
        emit(session, _event("raised", escalation, None))
    return escalation


async def announce_due(*, session: AsyncSession, limit: int = 50) -> int:
    """Worker job: announce again every open escalation whose repeat has come round. Claimed
    with SKIP LOCKED, so each repeat is announced by one instance."""
    now = await db_now(session)
    due = (
        await session.execute(
            select(Escalation, Area.escalation_repeat_seconds)
            .join(Area, Area.id == Escalation.area_id)
            .where(Escalation.acknowledged_at.is_(None), Escalation.next_announce_at <= now)
            .order_by(Escalation.next_announce_at)
            .limit(limit)
            .with_for_update(of=Escalation, skip_locked=True)
        )
    ).all()
    for escalation, repeat in due:
        escalation.announced_count += 1
        escalation.next_announce_at = now + timedelta(seconds=repeat)
        emit(session, _event("repeated", escalation, None))
    await session.flush()
    return len(due)


async def acknowledge(
    escalation_id: int, action: str, *, session: AsyncSession, actor: Actor
) -> EscalationOut:
    escalation = await session.scalar(
        select(Escalation)
        .where(Escalation.id == escalation_id, Escalation.area_id == actor.area_id)
        .with_for_update()
    )
    if escalation is None:
        raise NotFound(f"Escalation {escalation_id}")
    if escalation.acknowledged_at is not None:
        if escalation.acknowledged_by_id == actor.user_id and escalation.action == action:
            return (await _list(_query(actor).where(Escalation.id == escalation_id), session))[0]
        raise AppError(
            409, "already_acknowledged", f"Escalation {escalation_id} is already acknowledged."
        )
    escalation.acknowledged_at = await db_now(session)
    escalation.acknowledged_by_id = actor.user_id
    escalation.action = action
    escalation.next_announce_at = None
    await session.flush()
    audit.record(
        session=session,
        actor=actor,
        action="escalation.acknowledge",
        subject_type="escalation",
        subject_id=escalation.id,
        detail={"incident_id": escalation.incident_id, "reason": escalation.reason},
    )
    emit(session, _event("acknowledged", escalation, actor.username))
    return (await _list(_query(actor).where(Escalation.id == escalation_id), session))[0]


async def resolve(
    *,
    session: AsyncSession,
    incident_id: int,
    reasons: tuple[str, ...] | frozenset[str],
    action: str,
    dedupe_key: str | None = None,
    by: Actor | None = None,
) -> int:
    """The situation behind these open escalations is over (a unit accepted, the hand-off was
    recorded, the job moved, the incident was closed): close them, saying so. `by` is the
    person whose action resolved it, if any."""
    query = select(Escalation).where(
        Escalation.incident_id == incident_id,
        Escalation.reason.in_(reasons),
        Escalation.acknowledged_at.is_(None),
    )
    if dedupe_key is not None:
        query = query.where(Escalation.dedupe_key == dedupe_key)
    rows = list(await session.scalars(query.with_for_update(skip_locked=False)))
    if not rows:
        return 0
    now = await db_now(session)
    for escalation in rows:
        escalation.acknowledged_at = now
        escalation.acknowledged_by_id = by.user_id if by else None
        escalation.action = action
        escalation.next_announce_at = None
        emit(session, _event("acknowledged", escalation, by.username if by else None))
    await session.flush()
    return len(rows)


def _query(actor: Actor) -> Select[Any]:
    rank = case({level: i for i, level in enumerate(RISK_LEVELS)}, value=Escalation.risk)
    return (
        select(Escalation, User.username)
        .outerjoin(User, User.id == Escalation.acknowledged_by_id)
        .where(Escalation.area_id == actor.area_id)
        # Open first, most at risk first, oldest first: what needs someone now is on top.
        .order_by(Escalation.acknowledged_at.is_not(None), rank, Escalation.raised_at)
    )


async def _list(query: Select[Any], session: AsyncSession) -> list[EscalationOut]:
    return [
        EscalationOut(
            id=e.id,
            incident_id=e.incident_id,
            reason=e.reason,
            risk=e.risk,
            detail=e.detail,
            raised_at=e.raised_at,
            announced_count=e.announced_count,
            acknowledged_at=e.acknowledged_at,
            acknowledged_by=username,
            action=e.action,
        )
        for e, username in (await session.execute(query)).all()
    ]


async def list_escalations(
    state: str, *, session: AsyncSession, actor: Actor, since: datetime | None = None, limit: int
) -> list[EscalationOut]:
    query = _query(actor)
    if state == "open":
        query = query.where(Escalation.acknowledged_at.is_(None))
    elif state == "acknowledged":
        query = query.where(Escalation.acknowledged_at.is_not(None))
    if since is not None:
        query = query.where(Escalation.raised_at >= since)
    return await _list(query.limit(limit), session)


async def open_count(*, session: AsyncSession, area_id: int) -> int:
    return (
        await session.scalar(
            select(func.count())
            .select_from(Escalation)
            .where(Escalation.area_id == area_id, Escalation.acknowledged_at.is_(None))
        )
        or 0
    )
