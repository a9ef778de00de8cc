"""Reading the rows the reports are computed from (the arithmetic is in app/reports)."""

from datetime import date, datetime
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from app import clocks, reports
from app.auth.actor import Actor
from app.database import db_now
from app.errors import Unprocessable
from app.models import Clock, Detention, Incident, IncidentOverride, PlaceOfSafety
from app.services import audit

Bound = date | datetime | None


async def _period(session: AsyncSession, from_: Bound, to: Bound) -> tuple[datetime, datetime]:
    try:
        return clocks.parse_period(from_, to, await db_now(session))
    except clocks.ClockError as exc:
        raise Unprocessable(exc.code, str(exc), exc.field) from exc


async def detention_rows(
    start: datetime, end: datetime, *, session: AsyncSession, area_id: int
) -> list[reports.DetentionRow]:
    rows = await session.execute(
        select(Detention, PlaceOfSafety.name, Clock)
        .outerjoin(PlaceOfSafety, PlaceOfSafety.id == Detention.place_of_safety_id)
        .outerjoin(Clock, (Clock.detention_id == Detention.id) & (Clock.kind == "handover"))
        .where(
            Detention.area_id == area_id,
            Detention.detained_at >= start,
            Detention.detained_at < end,
        )
    )
    return [
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
            place_type=d.place_type,
            place_name=place_name,
            police_station_reason=d.police_station_reason,
            authorised_by=d.authorised_by,
            vehicle=d.vehicle,
            ambulance_requested=d.ambulance_requested,
            police_vehicle_reason=d.police_vehicle_reason,
            arrived_at=d.arrived_at,
            handover_at=d.handover_at,
            handover_goal_minutes=clock.goal_minutes if clock else None,
            handover_agreed=bool(clock and clock.agreed),
            assessment_at=d.assessment_at,
            ended_at=d.ended_at,
            outcome=d.outcome,
            extension_hours=d.extension_hours,
            review_required=d.review_required,
        )
        for d, place_name, clock in rows.all()
    ]


async def s136_report(
    from_: Bound, to: Bound, *, session: AsyncSession, actor: Actor
) -> dict[str, Any]:
    start, end = await _period(session, from_, to)
    report = reports.s136_return(
        await detention_rows(start, end, session=session, area_id=actor.area_id)
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
    summary = reports.rcrp_summary(incidents, handovers)
    return {"from": start, "to": end, **summary}


async def handover_rows(
    start: datetime, end: datetime, *, session: AsyncSession, area_id: int
) -> list[reports.HandoverRow]:
    rows = await session.execute(
        select(Clock).where(
            Clock.area_id == area_id,
            Clock.kind == "handover",
            Clock.stopped_at.is_not(None),
            Clock.started_at >= start,
            Clock.started_at < end,
        )
    )
    result = []
    for (clock,) in rows.all():
        seconds = (clock.stopped_at - clock.started_at).total_seconds()
        met = seconds <= clock.goal_minutes * 60 and not clock.agreed
        result.append(reports.HandoverRow(minutes=round(seconds / 60, 1), within_goal=met))
    return result
