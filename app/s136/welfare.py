"""S4: while a person is held at a police station, a healthcare professional checks their
welfare at least every 30 minutes. Pure: `now` is always a parameter."""

from dataclasses import dataclass
from datetime import datetime

from app import clocks


def needs_welfare_checks(place_type: str) -> bool:
    """The welfare-check clock runs while the person is at a police station, and only there."""
    return place_type == "police_station"


@dataclass(frozen=True)
class WelfareRestart:
    # Thresholds the clock reached before this check and had not announced: real misses,
    # announced (in order) before the clock restarts.
    owed: list[clocks.Threshold]
    # The clock from the check: the next check is due 30 minutes after it.
    restarted: clocks.ClockSpec


def welfare_restart(
    spec: clocks.ClockSpec, fired: set[str], check_at: datetime, now: datetime
) -> WelfareRestart:
    """A recorded check restarts the 30-minute clock from the check's time (which may be
    entered late, never ahead of now beyond skew, never before the clock's start). Raises
    ClockError (field `at`) for a time that cannot be."""
    clocks.check_not_future(check_at, now, "at")
    clocks.check_order(spec.started_at, check_at, "last_check", "at")
    owed = clocks.due_thresholds(spec, now, fired, stopped_at=check_at)
    return WelfareRestart(owed=owed, restarted=clocks.restarted(spec, check_at))
