"""What an incident needs next, read for the API and its events (the rule is the pure
app/dispatch/ownership.py; this module only gathers its facts)."""

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.dispatch import ownership, priority
from app.models import Incident
from app.realtime import events
from app.realtime.outbox import emit


def unit_kinds_needed(incident: Incident) -> list[str]:
    return ownership.unit_kinds_needed(
        incident.effective_outcome, incident.decision["outcome"], incident.decision["responders"]
    )


def risk_level(incident: Incident) -> str:
    return priority.risk_level(incident.effective_outcome, incident.risk)


def step_of(
    incident: Incident, statuses: list[str], waiting: list[str], handoffs: list[str]
) -> ownership.NextStep:
    return ownership.next_step(
        status=incident.status,
        outcome=incident.effective_outcome,
        responders=incident.decision["responders"],
        rules_outcome=incident.decision["outcome"],
        unit_kinds_needed=unit_kinds_needed(incident),
        assignment_statuses=statuses,
        waiting_for=waiting,
        handoffs=handoffs,
        task_due_at=incident.task_due_at,
    )


# Everything the next step depends on, in one round trip.
_STEP_FACTS = text(
    "SELECT"
    " array(SELECT status FROM assignments WHERE incident_id = :id) AS statuses,"
    " array(SELECT unit_kind FROM dispatch_waits WHERE incident_id = :id) AS waiting,"
    ' array(SELECT "to" FROM handoffs WHERE incident_id = :id ORDER BY id) AS handoffs'
)


async def current_step(incident: Incident, *, session: AsyncSession) -> ownership.NextStep:
    row = (await session.execute(_STEP_FACTS, {"id": incident.id})).one()
    return step_of(incident, list(row.statuses), list(row.waiting), list(row.handoffs))


async def announce(
    incident: Incident, *, session: AsyncSession, override: dict[str, object] | None = None
) -> None:
    """Tell subscribers the incident changed, with what it needs next."""
    step = await current_step(incident, session=session)
    emit(session, events.incident_event(incident, step, risk_level(incident), override=override))
