"""Reading the rows the reports are computed from (the arithmetic is in app/reports)."""

from collections import defaultdict
from datetime import date, datetime
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from app import clocks, reports
from app.auth.actor import Actor
from app.database import db_now
from app.errors import Unprocessable
from app.models import (
    Clock,
    Detention,
    DetentionTransfer,
    Incident,
    IncidentOverride,
    PlaceOfSafety,
)
from app.services import audit

Bound = date | datetime | None


async def _period(session: AsyncSession, from_: Bound, to: Bound) -> tuple[datetime, datetime]:
    try:
        return clocks.parse_period(from_, to, await db_now(session))
    except clocks.ClockError as exc:
        raise Unprocessable(exc.code, str(exc), exc.field) from exc


def _handover_row(clock: Clock) -> reports.HandoverRow:
    return reports.HandoverRow(
        started_at=clock.started_at,
        goal_minutes=clock.goal_minutes,
        agreed=clock.agreed,
        stopped_at=clock.stopped_at,
        stop_reason=clock.stop_reason,
    )


async def detention_rows(
    start: datetime, end: datetime, *, session: AsyncSession, area_id: int
) -> list[reports.DetentionRow]:
    detentions = list(
        await session.scalars(
            select(Detention).where(
                Detention.area_id == area_id,
                Detention.detained_at >= start,
                Detention.detained_at < end,
            )
        )
    )
    ids = [d.id for d in detentions]
    handovers: dict[int, list[reports.HandoverRow]] = defaultdict(list)
    for clock in await session.scalars(
        select(Clock)
        .where(Clock.detention_id.in_(ids), Clock.kind == "handover")
        .order_by(Clock.started_at, Clock.id)
    ):
        handovers[clock.detention_id].append(_handover_row(clock))
    transfers: dict[int, list[DetentionTransfer]] = defaultdict(list)
    for move in await session.scalars(
        select(DetentionTransfer)
        .where(DetentionTransfer.detention_id.in_(ids))
        .order_by(DetentionTransfer.at, DetentionTransfer.id)
    ):
        transfers[move.detention_id].append(move)
    place_ids = {d.place_of_safety_id for d in detentions} | {
        place_id
        for moves in transfers.values()
        for move in moves
        for place_id in (move.from_place_id, move.to_place_id)
    }
    places = {
        place.id: place
        for place in await session.scalars(
            select(PlaceOfSafety).where(PlaceOfSafety.id.in_(place_ids - {None}))
        )
    }
    rows = []
    for d in detentions:
        moves = transfers[d.id]
        # The return reports the first place of safety; later ones are transfers.
        if moves:
            first = places.get(moves[0].from_place_id)
            first_type = first.type if first else "not_known"
        else:
            first = places.get(d.place_of_safety_id)
            first_type = d.place_type
        stays: list[tuple[datetime, str]] = []
        if d.arrived_at is not None:
            stays.append((d.arrived_at, first_type))
            stays += [
                (m.at, places[m.to_place_id].type if m.to_place_id in places else "not_known")
                for m in moves
            ]
        rows.append(
            reports.DetentionRow(
                detention_id=d.id,
                incident_id=d.incident_id,
                power=d.power,
                detained_at=d.detained_at,
                age=d.person_age,
                gender=d.person_gender,
                ethnicity=d.person_ethnicity,
                consulted_who=d.consulted_who,
                not_consulted_reason=d.not_consulted_reason,
                place_type=first_type,
                place_name=first.name if first else None,
                police_station_reason=d.police_station_reason,
                authorised_by=d.authorised_by,
                vehicle=d.vehicle,
                ambulance_requested=d.ambulance_requested,
                police_vehicle_reason=d.police_vehicle_reason,
                arrived_at=d.arrived_at,
                handover_at=d.handover_at,
                assessment_at=d.assessment_at,
                ended_at=d.ended_at,
                outcome=d.outcome,
                extension_hours=d.extension_hours,
                review_required=d.review_required,
                handovers=tuple(handovers[d.id]),
                stays=tuple(stays),
                transfers=len(moves),
            )
        )
    return rows


async def s136_report(
    from_: Bound, to: Bound, *, session: AsyncSession, actor: Actor
) -> dict[str, Any]:
    start, end = await _period(session, from_, to)
    report = reports.s136_return(
        await detention_rows(start, end, session=session, area_id=actor.area_id),
        await db_now(session),
    )
    audit.record(
        session=session,
        actor=actor,
        action="report.s136",
        subject_type="report",
        detail={
            "from": start.isoformat(),
            "to": end.isoformat(),
            "detentions": report["totals"]["detentions"],
        },
    )
    return {"from": start, "to": end, **report}


async def rcrp_report(
    from_: Bound, to: Bound, *, session: AsyncSession, actor: Actor
) -> dict[str, Any]:
    start, end = await _period(session, from_, to)
    overridden = exists().where(IncidentOverride.incident_id == Incident.id)
    incidents = [
        reports.IncidentRow(source, category, decision["outcome"], effective, was_overridden)
        for source, category, decision, effective, was_overridden in (
            await session.execute(
                select(
                    Incident.source,
                    Incident.category,
                    Incident.decision,
                    Incident.effective_outcome,
                    overridden,
                ).where(
                    Incident.area_id == actor.area_id,
                    Incident.reported_at >= start,
                    Incident.reported_at < end,
                )
            )
        ).all()
    ]
    # Officers' time at handovers: handovers whose arrival falls in the period.
    handovers = await handover_rows(start, end, session=session, area_id=actor.area_id)
    summary = reports.rcrp_summary(incidents, handovers, await db_now(session))
    return {"from": start, "to": end, **summary}


async def handover_rows(
    start: datetime, end: datetime, *, session: AsyncSession, area_id: int
) -> list[reports.HandoverRow]:
    """Every handover clock that started in the period, open ones included (an open one past
    its goal counts as missed)."""
    clocks_ = await session.scalars(
        select(Clock).where(
            Clock.area_id == area_id,
            Clock.kind == "handover",
            Clock.started_at >= start,
            Clock.started_at < end,
        )
    )
    return [_handover_row(clock) for clock in clocks_]
