"""Pseudonymising closed incidents after their area's retention period (a worker job).

Claimed with `FOR UPDATE SKIP LOCKED` and marked `pseudonymised_at` in the same transaction, so
each incident is pseudonymised once across instances; one audit row per incident, by the service
itself. What is replaced and what is kept is the pure `app.retention`.
"""

from sqlalchemy import case, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app import retention
from app.database import db_now
from app.models import (
    Area,
    Assignment,
    Detention,
    DetentionTransfer,
    Escalation,
    Handoff,
    Incident,
    IncidentOverride,
)
from app.services import audit


def _text_values(model: type, columns: tuple[str, ...]) -> dict[str, object]:
    """SET col = '[removed]' where it held anything, in one statement."""
    return {
        name: case((getattr(model, name).is_(None), None), else_=retention.REMOVED)
        for name in columns
    }


async def pseudonymise_due(*, session: AsyncSession, limit: int = 20) -> int:
    """Worker job: pseudonymise the closed incidents whose retention period has passed."""
    now = await db_now(session)
    due = (
        await session.execute(
            select(Incident, Area.retention_days)
            .join(Area, Area.id == Incident.area_id)
            .where(
                Incident.status == "closed",
                Incident.pseudonymised_at.is_(None),
                Incident.closed_at <= func.now() - func.make_interval(0, 0, 0, Area.retention_days),
            )
            .order_by(Incident.closed_at)
            .limit(limit)
            .with_for_update(of=Incident, skip_locked=True)
        )
    ).all()
    if not due:
        return 0
    ids = [incident.id for incident, _days in due]
    for incident, days in due:
        assert retention.is_due(incident.closed_at, days, now)
        incident.person = retention.person(incident.person)
        incident.caller = retention.caller(incident.caller)
        incident.location_description = retention.REMOVED
        incident.lat = incident.lon = None
        incident.circumstances = retention.replaced(incident.circumstances)
        incident.close_note = retention.replaced(incident.close_note)
        incident.pseudonymised_at = now
        audit.record(
            session=session,
            actor=None,
            action="incident.pseudonymise",
            subject_type="incident",
            subject_id=incident.id,
            detail={"retention_days": days},
        )
    text = retention.FREE_TEXT
    await session.execute(
        update(IncidentOverride)
        .where(IncidentOverride.incident_id.in_(ids))
        .values(_text_values(IncidentOverride, text["incident_overrides"]))
    )
    await session.execute(
        update(Handoff)
        .where(Handoff.incident_id.in_(ids))
        .values(_text_values(Handoff, text["handoffs"]))
    )
    await session.execute(
        update(Assignment)
        .where(Assignment.incident_id.in_(ids))
        # updated_at is when a cleared job cleared (need to know counts from it): kept.
        .values(**_text_values(Assignment, text["assignments"]), updated_at=Assignment.updated_at)
    )
    await session.execute(
        update(Escalation)
        .where(Escalation.incident_id.in_(ids))
        .values(_text_values(Escalation, text["escalations"]))
    )
    await session.execute(
        update(Detention)
        .where(Detention.incident_id.in_(ids))
        .values(_text_values(Detention, text["detentions"]))
    )
    await session.execute(
        update(DetentionTransfer)
        .where(
            DetentionTransfer.detention_id.in_(
                select(Detention.id).where(Detention.incident_id.in_(ids))
            )
        )
        .values(_text_values(DetentionTransfer, text["detention_transfers"]))
    )
    await session.flush()
    return len(due)
