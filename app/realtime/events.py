"""The events the service emits, built from the rows they describe (pure)."""

from datetime import UTC, datetime
from typing import Any

from app.dispatch import ownership, priority
from app.models import Assignment, Incident, Unit
from app.realtime.outbox import PendingEvent

RISKS_SHOWN = (
    "crime_in_progress",
    "weapon",
    "violence_to_others",
    "immediate_risk_to_life",
    "serious_harm",
    "self_harm",
    "suicidal",
    "intoxicated",
    "medical_emergency",
)


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value else None


def incident_summary(incident: Incident, unit_kind: str = "triage_car") -> dict[str, Any]:
    """Need to know for a crew on its way: where, who to look for, what risks, what to share,
    who called. Not the person's name; the caller's account only for the nurse desk, whose
    advice depends on it."""
    return {
        "id": incident.id,
        "category": incident.category,
        "location": {
            "description": incident.location_description,
            "lat": incident.lat,
            "lon": incident.lon,
            "kind": incident.location_kind,
        },
        "person": {
            "description": incident.person.get("description"),
            "age": incident.person.get("age"),
            "gender": incident.person.get("gender"),
            "language": incident.person.get("language"),
            "communication_needs": incident.person.get("communication_needs"),
        },
        "risks": [name for name in RISKS_SHOWN if incident.risk.get(name)],
        "flags": incident.decision.get("flags", []),
        "crisis_plan": bool(incident.context.get("crisis_plan")),
        "known_to_mh_services": bool(incident.context.get("known_to_mh_services")),
        "outcome": incident.effective_outcome,
        "source": incident.source,
        "caller": incident.caller or {},
        "circumstances": incident.circumstances if unit_kind == "nurse_desk" else None,
    }


def assignment_event(
    type_: str, assignment: Assignment, unit: Unit, incident: Incident
) -> PendingEvent:
    return PendingEvent(
        type=type_,
        area_id=incident.area_id,
        incident_id=incident.id,
        unit_callsign=unit.callsign,
        audience=["call_handler"],
        data={
            "assignment_id": assignment.id,
            "incident_id": incident.id,
            "unit": unit.callsign,
            "unit_kind": unit.kind,
            "status": assignment.status,
            "offered_at": _iso(assignment.offered_at),
            "expires_at": _iso(assignment.expires_at),
            "decline_reason": assignment.decline_reason,
            "advice_at": _iso(assignment.advice_at),
            "risk_level": priority.risk_level(incident.effective_outcome, incident.risk),
            # Risk to life: supervisors watch these offers until a crew accepts.
            "urgent": incident.effective_outcome in priority.URGENT_OUTCOMES,
        },
        # Need to know: the unit the event is about and supervisors only. The nurse's advice is
        # clinical: the desk that gave it and supervisors (the asking crew reads it with the
        # incident); call handlers see only that the request was answered (`advice_at`).
        restricted={
            "incident": incident_summary(incident, unit.kind),
            "advice": assignment.advice,
            "s136_used": assignment.s136_used,
        },
    )


def incident_event(
    incident: Incident,
    next_step: ownership.NextStep,
    risk_level: str,
    override: dict[str, Any] | None = None,
) -> PendingEvent:
    """`override`: the person's decision just recorded (outcome, reason, by), if that is the
    change."""
    return PendingEvent(
        type="incident.updated",
        area_id=incident.area_id,
        incident_id=incident.id,
        audience=["call_handler"],
        data={
            "incident_id": incident.id,
            "status": incident.status,
            "decision": incident.decision,
            "effective_outcome": incident.effective_outcome,
            "source": incident.source,
            "category": incident.category,
            "created_by_id": incident.created_by_id,
            "override": override,
            "caller_advice": incident.caller_advice,
            "risk_level": risk_level,
            "next_step": next_step.as_dict(),
            "task_due_at": _iso(incident.task_due_at),
            "closed_at": _iso(incident.closed_at),
            "close_reason": incident.close_reason,
        },
    )


def unit_event(unit: Unit) -> PendingEvent:
    return PendingEvent(
        type="unit.updated",
        area_id=unit.area_id,
        unit_callsign=unit.callsign,
        data={
            "unit": unit.callsign,
            "kind": unit.kind,
            "status": unit.status,
            "lat": unit.lat,
            "lon": unit.lon,
            "active_assignments": unit.active_assignments,
        },
    )
