"""How urgent a person's situation is (pure): ranks waiting incidents and escalations, and picks
the shorter acknowledgement limit for risk to life."""

from collections.abc import Mapping
from typing import Final

RISK_LEVELS: Final = ("immediate", "urgent", "routine")
# Risk to life or of serious harm, or police needed now (T1, T2).
URGENT_OUTCOMES: Final = frozenset({"police_immediate", "police_and_triage"})
_IMMEDIATE_FLAGS: Final = (
    "immediate_risk_to_life",
    "serious_harm",
    "crime_in_progress",
    "weapon",
    "violence_to_others",
)
_URGENT_FLAGS: Final = ("self_harm", "suicidal", "medical_emergency")
_URGENT_OUTCOMES: Final = frozenset({"triage_car", "nurse_advice", "ambulance"})


def risk_level(outcome: str, risk: Mapping[str, bool | None]) -> str:
    """immediate: risk to life, serious harm or police needed now; urgent: self-harm, suicidal
    thoughts, a medical emergency or an urgent mental-health response; otherwise routine."""
    if outcome in URGENT_OUTCOMES or any(risk.get(flag) for flag in _IMMEDIATE_FLAGS):
        return "immediate"
    if outcome in _URGENT_OUTCOMES or any(risk.get(flag) for flag in _URGENT_FLAGS):
        return "urgent"
    return "routine"


def risk_rank(level: str) -> int:
    """0 for the most urgent: the order waiting incidents and escalations are dealt with."""
    return RISK_LEVELS.index(level)


def ack_timeout_seconds(outcome: str, *, standard: int, urgent: int) -> int:
    """How long a crew has to accept: the area's shorter limit when life is at risk."""
    return min(urgent, standard) if outcome in URGENT_OUTCOMES else standard
