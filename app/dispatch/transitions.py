"""Assignment and unit status rules (pure)."""

from typing import Final

# What a crew may move an assignment to, from each status.
ASSIGNMENT_NEXT: Final[dict[str, frozenset[str]]] = {
    "offered": frozenset({"accepted", "declined", "expired", "cancelled"}),
    "accepted": frozenset({"en_route", "on_scene", "cleared", "cancelled"}),
    "en_route": frozenset({"on_scene", "cleared", "cancelled"}),
    "on_scene": frozenset({"cleared"}),
    "declined": frozenset(),
    "expired": frozenset(),
    "cancelled": frozenset(),
    "cleared": frozenset(),
}
ACTIVE: Final = frozenset({"offered", "accepted", "en_route", "on_scene"})
TERMINAL: Final = frozenset({"declined", "expired", "cancelled", "cleared"})
# Unit status that follows an assignment's status.
UNIT_STATUS_FOR: Final[dict[str, str]] = {
    "en_route": "en_route",
    "on_scene": "on_scene",
    "cleared": "available",
}


def can_move(current: str, new: str) -> bool:
    return new in ASSIGNMENT_NEXT.get(current, frozenset())


def incident_status(assignment_statuses: list[str], current: str) -> str:
    """The incident's status from its assignments: on scene if any unit is, dispatched if any has
    accepted, closed once units have attended and all cleared; otherwise unchanged."""
    if "on_scene" in assignment_statuses:
        return "on_scene"
    if any(s in ("accepted", "en_route") for s in assignment_statuses):
        return "dispatched"
    if "cleared" in assignment_statuses and not any(s in ACTIVE for s in assignment_statuses):
        return "closed"
    return current
