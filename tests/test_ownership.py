"""Who owns an incident and what it needs next; how urgent it is (pure rules)."""

from datetime import UTC, datetime

import pytest

from app.dispatch import ownership, priority
from app.dispatch.transitions import close_reason_when_cleared, incident_status

DUE = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)


def step(**changes):
    facts = {
        "status": "open",
        "outcome": "health_referral",
        "responders": ["nhs_111"],
        "unit_kinds_needed": [],
        "assignment_statuses": [],
        "waiting_for": [],
        "handoffs": [],
        "task_due_at": DUE,
    } | changes
    return ownership.next_step(**facts)


@pytest.mark.parametrize(
    ("outcome", "responders", "expected"),
    [
        ("health_referral", ["nhs_111"], "nhs_111"),
        ("health_referral", ["health_provider"], "health_provider"),
        ("ambulance", ["ambulance"], "ambulance_service"),
        ("police_investigation", ["police", "health_provider"], "police"),
        ("police_standard", ["police"], "police"),
        ("no_police_action", [], None),
    ],
)
def test_a_decision_that_sends_no_unit_is_the_desks_to_pass_on(outcome, responders, expected):
    assert ownership.desk_owns(ownership.unit_kinds_needed(outcome, outcome, responders))
    result = step(outcome=outcome, responders=responders)
    if expected is None:
        assert (result.action, result.suggested_close_reason) == ("close", "advice_given")
    else:
        assert (result.action, result.suggested_handoff) == ("handoff", expected)
    assert result.due_at == DUE


def test_a_decision_that_sends_a_unit_is_not_the_desks():
    kinds = ownership.unit_kinds_needed(
        "police_and_triage", "police_and_triage", ["police", "triage_car"]
    )
    assert kinds == ["triage_car"] and not ownership.desk_owns(kinds)
    assert ownership.unit_kinds_needed("nurse_advice", "police_and_triage", ["police"]) == [
        "nurse_desk"
    ]
    assert ownership.unit_kinds_needed("no_police_action", "triage_car", ["triage_car"]) == []


def test_next_step_follows_the_incident():
    car = {
        "outcome": "triage_car",
        "responders": ["triage_car"],
        "unit_kinds_needed": ["triage_car"],
    }
    assert step(**car, assignment_statuses=["offered"]).action == "await_acceptance"
    assert step(**car, assignment_statuses=["expired"], waiting_for=["triage_car"]).action == (
        "await_unit"
    )
    assert step(**car, assignment_statuses=["expired", "accepted"]).action == "with_unit"
    handed = step(handoffs=["nhs_111"])
    assert (handed.action, handed.suggested_close_reason) == ("close", "referred")
    assert "NHS 111" in handed.text and handed.due_at is None
    assert step(status="closed").action == "none"


@pytest.mark.parametrize(
    ("outcome", "risk", "level"),
    [
        ("police_and_triage", {}, "immediate"),
        ("police_immediate", {}, "immediate"),
        ("health_referral", {"immediate_risk_to_life": True}, "immediate"),
        ("triage_car", {}, "urgent"),
        ("health_referral", {"suicidal": True}, "urgent"),
        ("health_referral", {"suicidal": None}, "routine"),
        ("no_police_action", {}, "routine"),
    ],
)
def test_risk_level(outcome, risk, level):
    assert priority.risk_level(outcome, risk) == level
    assert priority.risk_rank(level) == priority.RISK_LEVELS.index(level)


def test_risk_to_life_gets_the_shorter_acknowledgement_limit():
    assert priority.ack_timeout_seconds("police_and_triage", standard=120, urgent=30) == 30
    assert priority.ack_timeout_seconds("triage_car", standard=120, urgent=30) == 120
    # a local standard limit shorter than the urgent one is never lengthened
    assert priority.ack_timeout_seconds("police_immediate", standard=20, urgent=30) == 20


def test_an_incident_waiting_for_another_unit_stays_open_when_one_clears():
    assert incident_status(["cleared"], "on_scene") == "closed"
    assert incident_status(["cleared"], "on_scene", waiting=True) == "open"
    assert incident_status(["withdrawn"], "dispatched") == "open"
    assert incident_status(["offered"], "closed") == "closed"
    assert close_reason_when_cleared("nurse_desk") == "advice_given"
    assert close_reason_when_cleared("triage_car") == "resolved_on_scene"


def test_an_overridden_outcome_suggests_its_own_agency():
    # The rules sent the triage car; a person decided the health provider leads.
    assert ownership.suggested_handoff("health_referral", ["triage_car"], "triage_car") == (
        "health_provider"
    )
    result = step(outcome="ambulance", responders=["triage_car"], rules_outcome="triage_car")
    assert result.suggested_handoff == "ambulance_service"
