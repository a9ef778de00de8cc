from typing import Annotated, Literal

from pydantic import StringConstraints

from app.schemas.common import FreeText, InputModel, OutputModel, UtcDatetime

EscalationState = Literal["open", "acknowledged", "all"]


class EscalationOut(OutputModel):
    id: int
    incident_id: int | None
    reason: str
    risk: Literal["immediate", "urgent", "routine"]
    detail: str
    raised_at: UtcDatetime
    announced_count: int
    acknowledged_at: UtcDatetime | None
    # The supervisor who acknowledged it; null with an action when the service saw the
    # situation resolve (e.g. a unit accepted the incident nobody had been available for).
    acknowledged_by: str | None
    action: str | None


class EscalationAcknowledge(InputModel):
    # What was done about it, in a few words (e.g. "Asked TC3 to break off and attend").
    action: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000), FreeText
    ]
