from typing import Annotated, Literal

from pydantic import BaseModel, Field, StrictBool, StrictFloat, StrictInt, StringConstraints

from app.schemas.assignment import AssignmentOut
from app.schemas.common import (
    FreeText,
    InputModel,
    OneLine,
    OutputModel,
    ShortText,
    Text,
    UtcDatetime,
)
from app.schemas.decision import Decision, Outcome

Source = Literal[
    "police_999", "police_101", "ambulance_999", "nhs_111", "health_setting", "officer_on_scene"
]
Category = Literal[
    "concern_for_welfare",
    "mental_health_crisis",
    "walkout_from_health_setting",
    "awol_detained_patient",
    "transport_request",
    "s136_handover",
    "medical",
    "other",
]
LocationKind = Literal["public_place", "private_dwelling", "health_setting", "custody", "other"]
IncidentStatus = Literal["open", "dispatched", "on_scene", "closed"]
CloseReason = Literal[
    "referred",
    "advice_given",
    "duplicate",
    "no_further_action",
    "resolved_on_scene",
    "other",
]
HandoffTarget = Literal["nhs_111", "ambulance_service", "health_provider", "police", "other"]
RiskLevel = Literal["immediate", "urgent", "routine"]
NextAction = Literal["handoff", "close", "await_acceptance", "await_unit", "with_unit", "none"]
Gender = Literal["female", "male", "other", "not_known"]
Flag = StrictBool | None  # true, false, or null: not asked


class Location(InputModel):
    description: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500), OneLine
    ]
    lat: Annotated[StrictFloat | StrictInt, Field(ge=-90, le=90)] | None = None
    lon: Annotated[StrictFloat | StrictInt, Field(ge=-180, le=180)] | None = None
    kind: LocationKind


class Person(InputModel):
    name: ShortText | None = None
    description: Annotated[str, StringConstraints(max_length=1000), FreeText] | None = None
    age: Annotated[StrictInt, Field(ge=0, le=120)] | None = None
    gender: Gender | None = None
    language: Annotated[str, StringConstraints(max_length=40), OneLine] | None = None
    communication_needs: Annotated[str, StringConstraints(max_length=1000), FreeText] | None = None


class Caller(InputModel):
    name: ShortText | None = None
    # e.g. "PC 1234, Nottinghamshire Police" or "ward nurse"
    role: ShortText | None = None
    phone: (
        Annotated[str, StringConstraints(strip_whitespace=True, max_length=40), OneLine] | None
    ) = None


class Risk(InputModel):
    crime_in_progress: Flag = None
    crime_committed: Flag = None
    weapon: Flag = None
    violence_to_others: Flag = None
    immediate_risk_to_life: Flag = None
    serious_harm: Flag = None
    self_harm: Flag = None
    suicidal: Flag = None
    intoxicated: Flag = None
    medical_emergency: Flag = None


class Context(InputModel):
    known_to_mh_services: Flag = None
    crisis_plan: Flag = None
    liable_to_detention_under_mha: Flag = None
    health_setting_checks_done: Flag = None
    caller_is_health_professional: Flag = None


class IncidentCreate(InputModel):
    """What a call handler takes. Risk and context questions left out count as not asked."""

    # The area's code; defaults to the signed-in user's own area.
    area: Annotated[str, StringConstraints(min_length=1, max_length=40), OneLine] | None = None
    source: Source
    category: Category
    # When the call came in; defaults to now. Up to 2 minutes in the future (clock skew).
    reported_at: UtcDatetime | None = None
    location: Location
    person: Person = Field(default_factory=Person)
    circumstances: Text | None = None
    caller: Caller = Field(default_factory=Caller)
    risk: Risk = Field(default_factory=Risk)
    context: Context = Field(default_factory=Context)


class OverrideCreate(InputModel):
    outcome: Outcome
    reason: (
        Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000), FreeText] | None
    ) = None


class IncidentClose(InputModel):
    reason: CloseReason
    # Required when the reason is "other".
    note: (
        Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000), FreeText] | None
    ) = None


class HandoffCreate(InputModel):
    to: HandoffTarget
    # The reference the receiving agency gave (their incident or case number), if any.
    reference: (
        Annotated[str, StringConstraints(strip_whitespace=True, max_length=200), OneLine] | None
    ) = None
    # When it was passed on; defaults to now. Up to 2 minutes in the future (clock skew).
    at: UtcDatetime | None = None


class HandoffOut(OutputModel):
    to: HandoffTarget
    reference: str | None
    at: UtcDatetime
    by: str


class NextStepOut(OutputModel):
    action: NextAction
    text: str
    due_at: UtcDatetime | None
    suggested_handoff: HandoffTarget | None
    suggested_close_reason: CloseReason | None


class OverrideOut(OutputModel):
    outcome: Outcome
    police_attendance: bool
    previous_outcome: Outcome
    reason: str | None
    caller_advice: str | None = None
    by: str
    at: UtcDatetime


class IncidentOut(BaseModel):
    id: int
    area: str
    source: Source
    category: Category
    reported_at: UtcDatetime
    location: Location
    person: Person
    circumstances: str | None
    caller: Caller
    risk: Risk
    context: Context
    status: IncidentStatus
    decision: Decision
    # The outcome in force: the latest override's, else the rules'.
    effective_outcome: Outcome
    override: OverrideOut | None = None
    overrides: list[OverrideOut] = []
    assignments: list[AssignmentOut] = []
    # What to tell the caller now (changes with an override; `decision.caller_advice` does not).
    caller_advice: str
    # How urgent the person's situation is: orders waiting incidents and escalations.
    risk_level: RiskLevel
    handoffs: list[HandoffOut] = []
    # When the desk's hand-off (or closing) falls due; null when nothing is owed.
    task_due_at: UtcDatetime | None = None
    next_step: NextStepOut
    closed_at: UtcDatetime | None = None
    close_reason: CloseReason | None = None
    close_note: str | None = None
    closed_by: str | None = None
    created_by: str
    created_at: UtcDatetime
    updated_at: UtcDatetime


class IncidentPage(BaseModel):
    items: list[IncidentOut]
    # Pass as `cursor` to get the next (older) page; null on the last page.
    next_cursor: str | None
