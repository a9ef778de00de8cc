"""The clocks of a detention as pure arithmetic over recorded times: no I/O, no system clock.

A clock starts at a recorded instant and runs against a goal fixed when it starts. While running
it is `waiting`, then `warning` (from the warning instant, inclusive), then `breached` (strictly
after the deadline). Stopped, it reports whether it stopped within its goal. Every threshold has
one instant `at`; a threshold is reached exactly when `at <= now`, and the running state is the
last threshold reached, so the state and the announcements can never disagree.
"""

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

CLOCK_KINDS = ("handover", "assessment", "detention", "welfare_check")

# Times entered by people may run slightly ahead of the server (device clocks drift).
MAX_SKEW = timedelta(minutes=2)

# The smallest step of a datetime (and of PostgreSQL timestamptz). A clock stopped exactly at its
# deadline is within goal, so the breach is reached at the first instant after the deadline.
RESOLUTION = timedelta(microseconds=1)

# S8: the handover goal (per area; these are the defaults).
HANDOVER_GOAL = timedelta(minutes=60)
HANDOVER_WARNING = timedelta(minutes=45)
# S7: AMHP and section 12 doctor within 3 hours of arrival.
ASSESSMENT_GOAL = timedelta(hours=3)
ASSESSMENT_WARNING = timedelta(hours=2, minutes=30)
# S4: a welfare check at least every 30 minutes while held at a police station.
WELFARE_CHECK_INTERVAL = timedelta(minutes=30)
WELFARE_CHECK_WARNING = timedelta(minutes=25)

WARNING = "warning"
BREACHED = "breached"
_MINUTE = timedelta(minutes=1)


class ClockError(ValueError):
    """A recorded time or request that breaks a clock rule; the HTTP layer answers 422.

    `field` names the offending request field (as clients send it), `message` is for a person.
    """

    def __init__(self, field: str, message: str, code: str = "invalid_time") -> None:
        super().__init__(message)
        self.field = field
        self.message = message
        self.code = code


@dataclass(frozen=True)
class ClockSpec:
    """What a clock runs against, fixed when it starts (later area changes do not touch it).

    `started_at` is normalised to UTC: arithmetic between two datetimes sharing a DST zone is
    wall-clock arithmetic in Python, which is an hour out across a change.
    """

    kind: str
    started_at: datetime
    goal: timedelta
    warning: timedelta | None
    agreed: bool = False

    def __post_init__(self) -> None:
        if self.kind not in CLOCK_KINDS:
            raise ClockError("kind", f"Unknown clock kind {self.kind!r}.", "invalid_clock")
        if self.goal <= timedelta(0):
            raise ClockError("goal_minutes", "The goal must be positive.", "invalid_clock")
        if self.warning is not None and not timedelta(0) < self.warning < self.goal:
            raise ClockError(
                "warning_minutes",
                "The warning must come after the start and before the goal.",
                "invalid_clock",
            )
        if self.agreed and self.kind != "handover":
            raise ClockError(
                "agreed", "Only a handover goal can be extended by agreement.", "invalid_clock"
            )
        started = _utc(self.started_at, "started_at")
        try:
            started + self.goal + RESOLUTION  # every instant the clock will need must exist
        except OverflowError:
            raise ClockError("started_at", "That time is out of range.") from None
        object.__setattr__(self, "started_at", started)

    @property
    def goal_minutes(self) -> int:
        return self.goal // _MINUTE

    @property
    def warning_minutes(self) -> int | None:
        return None if self.warning is None else self.warning // _MINUTE


@dataclass(frozen=True)
class Threshold:
    """An instant at which the clock enters a state that supervisors are told about."""

    name: str  # "warning" | "breached"
    at: datetime


@dataclass(frozen=True)
class ClockState:
    state: str  # waiting | warning | breached | handed_over (handover) / stopped (other kinds)
    elapsed_minutes: int
    deadline_at: datetime
    within_goal: bool | None
    outcome: str | None  # met | agreed | missed once stopped


def spec_from_minutes(
    kind: str,
    started_at: datetime,
    goal_minutes: int,
    warning_minutes: int | None,
    agreed: bool = False,
) -> ClockSpec:
    """A spec from whole minutes, as clocks are stored."""
    warning = None if warning_minutes is None else timedelta(minutes=warning_minutes)
    return ClockSpec(kind, started_at, timedelta(minutes=goal_minutes), warning, agreed)


def handover_spec(
    started_at: datetime,
    goal: timedelta = HANDOVER_GOAL,
    warning: timedelta | None = HANDOVER_WARNING,
) -> ClockSpec:
    """S8: from arrival at the place of safety, against the area's goal as it is now."""
    return ClockSpec("handover", started_at, goal, warning)


def assessment_spec(started_at: datetime) -> ClockSpec:
    """S7: the AMHP and doctor should attend within 3 hours of arrival."""
    return ClockSpec("assessment", started_at, ASSESSMENT_GOAL, ASSESSMENT_WARNING)


def welfare_check_spec(started_at: datetime) -> ClockSpec:
    """S4: the next welfare check is due 30 minutes after arrival or the last check."""
    return ClockSpec("welfare_check", started_at, WELFARE_CHECK_INTERVAL, WELFARE_CHECK_WARNING)


def with_agreed_goal(spec: ClockSpec, goal: timedelta) -> ClockSpec:
    """S8: both sides agreed a longer handover; the running clock now runs against it.

    The warning keeps its lead before the deadline (15 minutes by default). Only longer goals:
    the agreement exists to allow a longer handover, never to shorten one.
    """
    if spec.kind != "handover":
        raise ClockError("kind", "Only a handover goal can be agreed.", "invalid_clock")
    if goal <= spec.goal:
        raise ClockError(
            "goal_minutes",
            f"An agreed goal must be longer than the current {spec.goal_minutes} minutes.",
            "invalid_agreement",
        )
    warning = None if spec.warning is None else goal - (spec.goal - spec.warning)
    return replace(spec, goal=goal, warning=warning, agreed=True)


def restarted(spec: ClockSpec, at: datetime) -> ClockSpec:
    """S4: a recorded welfare check restarts the 30-minute clock from the check's time.

    The restarted clock's thresholds are new crossings: start its fired set empty.
    """
    check_order(spec.started_at, at, "started_at", "at")
    return replace(spec, started_at=at)


def deadline(spec: ClockSpec) -> datetime:
    """When the goal runs out; stopping at this very instant is still within goal."""
    return spec.started_at + spec.goal


def thresholds(spec: ClockSpec) -> list[Threshold]:
    """The clock's thresholds in time order (warning before breach)."""
    found = [] if spec.warning is None else [Threshold(WARNING, spec.started_at + spec.warning)]
    found.append(Threshold(BREACHED, deadline(spec) + RESOLUTION))
    return found


def elapsed_minutes(start: datetime, end: datetime) -> int:
    """Whole minutes from start to end, rounded down, never negative (end may be within skew)."""
    _require_aware(end, "end")
    # One side in UTC makes the subtraction exact whatever zone the other is in.
    return max(end - _utc(start, "start"), timedelta(0)) // _MINUTE


def minutes_left(deadline_at: datetime, now: datetime) -> int:
    """Whole minutes until the deadline, rounded towards it; negative once it has passed (a
    clock one second over shows -1, never 0)."""
    _require_aware(now, "now")
    remaining = _utc(deadline_at, "deadline_at") - now
    return remaining // _MINUTE if remaining < timedelta(0) else -(-remaining // _MINUTE)


def state_at(spec: ClockSpec, now: datetime, stopped_at: datetime | None = None) -> ClockState:
    """The clock as it stands at `now`, or as it stopped at `stopped_at`.

    A recorded stop is final whatever `now` is (it may be up to MAX_SKEW ahead of it).
    """
    _require_aware(now, "now")
    # Every instant derived from the spec is in UTC, so comparing it with a time in any zone is
    # exact (and cannot overflow, unlike converting that time).
    due_at = deadline(spec)
    if stopped_at is not None:
        _require_aware(stopped_at, "stopped_at")
        within = stopped_at <= due_at
        outcome = ("agreed" if spec.agreed else "met") if within else "missed"
        stopped = "handed_over" if spec.kind == "handover" else "stopped"
        elapsed = elapsed_minutes(spec.started_at, stopped_at)
        return ClockState(stopped, elapsed, due_at, within, outcome)
    reached = [t.name for t in thresholds(spec) if t.at <= now]
    state = reached[-1] if reached else "waiting"
    return ClockState(state, elapsed_minutes(spec.started_at, now), due_at, None, None)


def due_thresholds(
    spec: ClockSpec,
    now: datetime,
    already_fired: set[str] | frozenset[str],
    stopped_at: datetime | None = None,
) -> list[Threshold]:
    """The thresholds to announce now, in time order: reached and not yet announced.

    A stopped clock still owes the thresholds it reached while it ran (at <= stopped_at), even
    when the stop is entered late or no instance was running then; it never owes later ones.
    """
    _require_aware(now, "now")
    return [
        t
        for t in thresholds(spec)
        if t.name not in already_fired and t.at <= now and _reached_before_stop(t, stopped_at)
    ]


def next_due_at(
    spec: ClockSpec,
    already_fired: set[str] | frozenset[str],
    stopped_at: datetime | None = None,
) -> datetime | None:
    """When the next unannounced threshold falls due (maybe already past), or None if none will."""
    pending = [
        t.at
        for t in thresholds(spec)
        if t.name not in already_fired and _reached_before_stop(t, stopped_at)
    ]
    return pending[0] if pending else None


def fired_after_change(
    spec: ClockSpec, already_fired: set[str] | frozenset[str], now: datetime
) -> frozenset[str]:
    """The announced thresholds that stay announced once the goal changes (an agreed handover
    goal, a detention extension): those the new goal puts in the future are crossed afresh."""
    _require_aware(now, "now")
    return frozenset(t.name for t in thresholds(spec) if t.name in already_fired and t.at <= now)


def check_not_future(at: datetime, now: datetime, field: str) -> None:
    """Refuse a recorded time more than MAX_SKEW ahead of now; any past time is accepted."""
    if _utc(at, field) - _utc(now, "now") > MAX_SKEW:
        raise ClockError(
            field,
            "That time is in the future; record a time as it happened.",
            "time_in_future",
        )


def check_order(earlier: datetime, later: datetime, earlier_field: str, later_field: str) -> None:
    """Refuse `later` before `earlier` (e.g. a handover before the arrival); equal is fine."""
    # In UTC: Python compares two times sharing a zone by wall clock, wrong in the repeated hour.
    first = _utc(earlier, earlier_field)
    if _utc(later, later_field) < first:
        raise ClockError(
            later_field,
            f"'{later_field}' cannot be before '{earlier_field}' ({first.isoformat()}).",
            "time_out_of_order",
        )


def _reached_before_stop(threshold: Threshold, stopped_at: datetime | None) -> bool:
    return stopped_at is None or threshold.at <= stopped_at


def _require_aware(at: datetime, field: str) -> None:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ClockError(field, "A time must include its UTC offset.")


def _utc(at: datetime, field: str) -> datetime:
    _require_aware(at, field)
    try:
        return at.astimezone(UTC)
    except OverflowError:
        raise ClockError(field, "That time is out of range.") from None
