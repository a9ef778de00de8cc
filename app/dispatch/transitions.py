"""Assignment and unit status rules (pure)."""

from typing import Final

# What a crew may move an assignment to, from each status.
ASSIGNMENT_NEXT: Final[dict[str, frozenset[str]]] = {
    "offered": frozenset({"accepted", "declined", "expired", "cancelled", "withdrawn"}),
    "accepted": frozenset({"en_route", "on_scene", "cleared", "cancelled", "withdrawn"}),
    "en_route": frozenset({"on_scene", "cleared", "cancelled", "withdrawn"}),
    "on_scene": frozenset({"cleared"}),
    "declined": frozenset(),
    "expired": frozenset(),
    "cancelled": frozenset(),
    "withdrawn": frozenset(),
    "cleared": frozenset(),
}
ACTIVE: Final = frozenset({"offered", "accepted", "en_route", "on_scene"})
TERMINAL: Final = frozenset({"declined", "expired", "cancelled", "withdrawn", "cleared"})
# Jobs watched for going quiet (stale_job): on the way. On scene may rightly take hours.
STALE_WATCHED: Final = frozenset({"accepted", "en_route"})
# Unit status that follows an assignment's status.
UNIT_STATUS_FOR: Final[dict[str, str]] = {
    "en_route": "en_route",
    "on_scene": "on_scene",
    "cleared": "available",
    "withdrawn": "available",
}


def can_move(current: str, new: str) -> bool:
    return new in ASSIGNMENT_NEXT.get(current, frozenset())


def incident_status(assignment_statuses: list[str], current: str, *, waiting: bool = False) -> str:
    """The incident's status from its assignments: on scene if any unit is, dispatched if any has
    accepted, closed once units have attended and all cleared (and it waits for no other unit);
    otherwise unchanged. A closed incident stays closed."""
    if current == "closed":
        return current
    if "on_scene" in assignment_statuses:
        return "on_scene"
    if any(s in ("accepted", "en_route") for s in assignment_statuses):
        return "dispatched"
    attended = "cleared" in assignment_statuses
    if attended and not waiting and not any(s in ACTIVE for s in assignment_statuses):
        return "closed"
    if current in ("dispatched", "on_scene"):
        return "open"  # the unit that had it was stood down: back to the desk and dispatch
    return current


def close_reason_when_cleared(unit_kind: str) -> str:
    """The reason recorded when the last unit clears: the nurse desk gave advice; a car
    resolved it on scene."""
    return "advice_given" if unit_kind == "nurse_desk" else "resolved_on_scene"
