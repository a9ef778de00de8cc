"""Who owns an incident and what it needs next (pure).

Every incident has an owner until it is closed with a reason. A decision that sends one of our
units is owned by dispatch (and, when nobody takes it, by the supervisors through an
escalation). A decision that sends none of our units is owned by the call handlers' desk: it
must be passed to the agency that responds (a hand-off, with that agency's reference) or, when
nobody needs to respond, closed, within the area's task limit.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final

# Which of our unit kinds answers a responder in a decision.
UNIT_KIND_FOR_RESPONDER: Final = {"triage_car": "triage_car", "mh_nurse": "nurse_desk"}
# For an overridden outcome (a person's decision has no responder list): the units it calls for.
UNIT_KINDS_FOR_OUTCOME: Final = {
    "police_and_triage": ("triage_car",),
    "triage_car": ("triage_car",),
    "nurse_advice": ("nurse_desk",),
}
# Which agency takes each responder this service does not dispatch itself.
HANDOFF_FOR_RESPONDER: Final = {
    "nhs_111": "nhs_111",
    "health_provider": "health_provider",
    "ambulance": "ambulance_service",
    "police": "police",
}
HANDOFF_LABELS: Final = {
    "nhs_111": "NHS 111 (mental health option)",
    "ambulance_service": "the ambulance service",
    "health_provider": "the person's health provider",
    "police": "a police resource",
    "other": "another agency",
}
# Who takes each outcome when a person chose it (an override has no responder list).
HANDOFF_FOR_OUTCOME: Final = {
    "health_referral": "health_provider",
    "ambulance": "ambulance_service",
    "police_immediate": "police",
    "police_investigation": "police",
    "police_standard": "police",
}
# Outcomes nobody needs to respond to: the caller was advised; close it.
ADVICE_ONLY: Final = frozenset({"no_police_action"})
ACCEPTED: Final = frozenset({"accepted", "en_route", "on_scene"})


@dataclass(frozen=True)
class NextStep:
    action: str  # handoff | close | await_acceptance | await_unit | with_unit | none
    text: str
    due_at: datetime | None = None
    suggested_handoff: str | None = None
    suggested_close_reason: str | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "action": self.action,
            "text": self.text,
            "due_at": self.due_at.isoformat() if self.due_at else None,
            "suggested_handoff": self.suggested_handoff,
            "suggested_close_reason": self.suggested_close_reason,
        }


def unit_kinds_needed(
    effective_outcome: str, rules_outcome: str, rules_responders: Sequence[str]
) -> list[str]:
    """The kinds of our units the outcome in force calls for: the rules' responders while the
    rules' decision stands, the overriding outcome's units once a person has decided."""
    if effective_outcome == rules_outcome:
        return [
            UNIT_KIND_FOR_RESPONDER[r] for r in rules_responders if r in UNIT_KIND_FOR_RESPONDER
        ]
    return list(UNIT_KINDS_FOR_OUTCOME.get(effective_outcome, ()))


def desk_owns(unit_kinds_needed: Sequence[str]) -> bool:
    """The desk owes a hand-off (or a close) when the decision sends none of our units."""
    return not unit_kinds_needed


def suggested_handoff(
    outcome: str, responders: Sequence[str], rules_outcome: str | None = None
) -> str | None:
    """The agency the outcome in force points at: the rules' responders, in their order, while
    the rules' decision stands; the outcome's usual agency once a person has overridden it."""
    if outcome in ADVICE_ONLY:
        return None
    if rules_outcome is None or rules_outcome == outcome:
        for responder in responders:
            if responder in HANDOFF_FOR_RESPONDER:
                return HANDOFF_FOR_RESPONDER[responder]
    return HANDOFF_FOR_OUTCOME.get(outcome)


def next_step(
    *,
    status: str,
    outcome: str,
    responders: Sequence[str],
    rules_outcome: str | None = None,
    unit_kinds_needed: Sequence[str],
    assignment_statuses: Sequence[str],
    waiting_for: Sequence[str],
    handoffs: Sequence[str],
    task_due_at: datetime | None,
) -> NextStep:
    """What the incident needs next, in a sentence for the call handler.

    `assignment_statuses`: this incident's assignments; `waiting_for`: unit kinds it is queued
    for (nobody free, or nobody took it); `handoffs`: agencies it has been passed to.
    """
    if status == "closed":
        return NextStep("none", "Closed.")
    if any(s in ACCEPTED for s in assignment_statuses):
        return NextStep("with_unit", "A unit has it; it closes when the unit clears.")
    if waiting_for:
        return NextStep(
            "await_unit",
            "Waiting for a free unit; supervisors have been alerted and it is offered to the "
            "first one free.",
        )
    if "offered" in assignment_statuses:
        return NextStep("await_acceptance", "Offered to a unit; waiting for it to accept.")
    if unit_kinds_needed:
        return NextStep("await_unit", "Being offered to a unit.")
    if handoffs:
        passed = ", ".join(HANDOFF_LABELS.get(h, h) for h in handoffs)
        return NextStep(
            "close",
            f"Passed to {passed}. Close it as referred when nothing more is needed here.",
            suggested_close_reason="referred",
        )
    if outcome in ADVICE_ONLY:
        return NextStep(
            "close",
            "The caller was advised; close it as advice given.",
            due_at=task_due_at,
            suggested_close_reason="advice_given",
        )
    target = suggested_handoff(outcome, responders, rules_outcome)
    label = HANDOFF_LABELS.get(target or "other", "the agency that responds")
    return NextStep(
        "handoff",
        f"Pass it to {label} and record their reference.",
        due_at=task_due_at,
        suggested_handoff=target,
        suggested_close_reason="referred",
    )
