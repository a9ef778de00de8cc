from typing import Annotated, Any, Literal

from pydantic import StringConstraints

from app.schemas.common import FreeText, InputModel, OutputModel, UtcDatetime
from app.schemas.unit import Callsign, UnitKind

AssignmentStatus = Literal[
    "offered",
    "accepted",
    "declined",
    "expired",
    "cancelled",
    "withdrawn",
    "en_route",
    "on_scene",
    "cleared",
]
Reason = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500), FreeText
]


class AssignmentOut(OutputModel):
    id: int
    incident_id: int
    unit: str
    unit_kind: UnitKind
    status: AssignmentStatus
    offered_at: UtcDatetime
    expires_at: UtcDatetime
    responded_at: UtcDatetime | None
    decline_reason: str | None
    advice: str | None = None
    s136_used: bool | None = None
    advice_at: UtcDatetime | None = None
    # "auto" when the service chose the unit; else the username who dispatched by hand.
    offered_by: str
    # In `GET /assignments` only, for active assignments: the need-to-know summary the offer event
    # carries, so a tablet that restarted (and missed the event) still shows where and who.
    incident: dict[str, Any] | None = None
    # Active offers and jobs in `GET /assignments`: risk to life (the shorter time to accept),
    # as the offer event says, for a tablet that missed it.
    urgent: bool = False


class DeclineRequest(InputModel):
    reason: Reason


class AdviceRequest(InputModel):
    """The nurse desk's advice to the officer, and whether s136 was then used. Clears the
    assignment."""

    advice: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5000), FreeText
    ]
    s136_used: bool


class StatusRequest(InputModel):
    status: Literal["en_route", "on_scene", "cleared"]


class DispatchRequest(InputModel):
    """Dispatch by hand: to the named unit, or (unit left out) the best available one."""

    kind: UnitKind = "triage_car"
    unit: Callsign | None = None
    # Supervisors only: offer even to a unit that is busy or not available.
    force: bool = False


class ReassignRequest(InputModel):
    unit: Callsign | None = None
    force: bool = False
    reason: Reason | None = None
