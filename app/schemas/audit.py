from typing import Literal

from app.schemas.common import OutputModel, UtcDatetime


class AuditRowOut(OutputModel):
    """One audit row about a record: who (`actor`, `role`: `system` for the service itself) did
    what, when, from which request; `outcome` `denied` for an attempt that was refused."""

    id: int  # page with `after=<id>`
    at: UtcDatetime
    actor: str
    role: str
    action: str
    subject: str  # as asked: "incident:42"
    request_id: str | None
    outcome: Literal["allowed", "denied"]
