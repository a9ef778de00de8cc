"""The authenticated person behind a request, and the checks on their role."""

from dataclasses import dataclass
from uuid import UUID


@dataclass(frozen=True, slots=True)
class Actor:
    user_id: int
    username: str
    role: str
    area_id: int
    area_code: str
    unit_callsign: str | None
    # Where the request came from, for the audit trail.
    request_id: str | None = None
    client_ip: str | None = None
    # The signed-in session the request was made in.
    session_id: UUID | None = None
