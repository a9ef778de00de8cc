from typing import Literal

from pydantic import BaseModel

Outcome = Literal[
    "police_immediate",
    "police_and_triage",
    "police_investigation",
    "police_standard",
    "ambulance",
    "triage_car",
    "nurse_advice",
    "health_referral",
    "no_police_action",
]
Responder = Literal["police", "triage_car", "mh_nurse", "ambulance", "nhs_111", "health_provider"]


class ReasonOut(BaseModel):
    rule: str
    text: str


class Decision(BaseModel):
    """The rules' decision, rule by rule. `overridden` says a person has since decided otherwise
    (see the incident's `override`); the rules' decision itself never changes."""

    outcome: Outcome
    police_attendance: bool
    responders: list[Responder]
    reasons: list[ReasonOut]
    flags: list[str]
    caller_advice: str
    unanswered: list[str]
    rules_version: str
    overridden: bool = False
