"""How long person data is kept, and what pseudonymising a closed incident replaces (pure).

After the area's `retention_days` from closing, a closed incident keeps what the reports and the
s136 return need and nothing that identifies the person: their name, description and
communication needs, the caller's details, where they were (description and coordinates), and
every free-text field (circumstances, notes, reasons, references, the nurse's advice, a
supervisor's account of what was done), which may hold any of those. Kept: the categories, times,
outcomes and decisions; the person's age, sex, ethnicity and language; place types, vehicles,
clocks; and the names of the staff who acted (their accountability, not the person's data).
docs/security.md ("Retention") explains why.
"""

from datetime import datetime, timedelta
from typing import Any

REMOVED = "[removed]"

# Person fields kept: what the reports count (age band, sex, language needs met).
PERSON_KEPT = ("age", "gender", "language")
# Free text, by table and column, replaced wherever it was given.
FREE_TEXT: dict[str, tuple[str, ...]] = {
    "incidents": ("location_description", "circumstances", "close_note"),
    "incident_overrides": ("reason",),
    "handoffs": ("reference",),
    "assignments": ("advice", "decline_reason"),
    "escalations": ("action",),
    "detentions": (
        "not_consulted_reason",
        "police_station_reason",
        "believed_adult_reason",
        "under_18_place_reason",
        "police_vehicle_reason",
        "handover_agreed_reason",
        "extension_reason",
    ),
    "detention_transfers": ("reason",),
}


def is_due(closed_at: datetime | None, retention_days: int, now: datetime) -> bool:
    """Whether a closed incident's person data has been kept its full period."""
    return closed_at is not None and now >= closed_at + timedelta(days=retention_days)


def replaced(value: str | None) -> str | None:
    """Free text: gone, but its having been given is kept (None stays None)."""
    return None if value is None else REMOVED


def person(data: dict[str, Any]) -> dict[str, Any]:
    """The person as recorded at intake, without what identifies them."""
    kept = {name: data.get(name) for name in PERSON_KEPT if name in data}
    gone = {
        name: replaced(value)
        for name, value in data.items()
        if name not in PERSON_KEPT and isinstance(value, str | type(None))
    }
    return {**gone, **kept}


def caller(data: dict[str, Any] | None) -> dict[str, Any]:
    """Who called (a name, a role, a phone number): all of it identifies someone."""
    return {name: replaced(value) for name, value in (data or {}).items()}
