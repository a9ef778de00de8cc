"""Who receives which event (pure; mirrored in SQL for replay)."""

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, false, or_

from app.models.event import Event


@dataclass(frozen=True, slots=True)
class Viewer:
    user_id: int
    role: str
    area_id: int
    unit_callsign: str | None


@dataclass(frozen=True, slots=True)
class Envelope:
    """What the listener hands the hub: an event's routing facts and its two renderings."""

    id: int
    area_id: int
    unit_callsign: str | None
    audience: tuple[str, ...]
    full: str  # with the need-to-know summary
    public: str  # without it
    # The incident whose summary `full` carries, if any (its delivery is audited).
    summary_of: int | None = None


def summary_of(restricted: dict[str, Any] | None) -> int | None:
    """The incident whose need-to-know summary an event's restricted part carries."""
    summary = (restricted or {}).get("incident")
    return summary.get("id") if isinstance(summary, dict) else None


def can_see(
    viewer: Viewer, area_id: int, unit_callsign: str | None, audience: tuple[str, ...]
) -> bool:
    if area_id != viewer.area_id:
        return False
    return (
        viewer.role == "supervisor"
        or sees_restricted(viewer, unit_callsign)
        or viewer.role in audience
    )


def sees_restricted(viewer: Viewer, unit_callsign: str | None) -> bool:
    """Supervisors, and the unit an event is about (its crew or nurse desk)."""
    if viewer.role == "supervisor":
        return True
    return unit_callsign is not None and viewer.unit_callsign == unit_callsign


def sql_filter(viewer: Viewer) -> ColumnElement[bool]:
    """The same rule as `can_see`, for reading events back from the table."""
    by_unit = (
        Event.unit_callsign == viewer.unit_callsign if viewer.unit_callsign is not None else false()
    )
    if viewer.role == "supervisor":
        return Event.area_id == viewer.area_id
    return and_(Event.area_id == viewer.area_id, or_(by_unit, Event.audience.any(viewer.role)))
