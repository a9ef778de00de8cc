"""The handover goal (S8): which goal a clock runs against, whether an area's settings make
sense, when a longer goal may still be agreed, and what "within goal" means for a clock, a
detention and a report. Pure: `now` is always a parameter."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from app.clocks import HANDOVER_GOAL
from app.s136.rules import Refusal

# How a handover clock ended. Only "handed_over" is a handover: an outcome recorded first
# ("ended") or a move to another place ("transferred") stops the clock without one.
HANDED_OVER = "handed_over"
TRANSFERRED = "transferred"
ENDED = "ended"

# Per handover clock: met, agreed (within an agreed longer goal), missed (handed over late),
# breached (not handed over yet, goal passed), open (not handed over yet, goal not passed),
# not_handed_over (stopped by an outcome or a transfer).
CLOCK_RESULTS = ("met", "agreed", "missed", "breached", "open", "not_handed_over")


@dataclass(frozen=True)
class Goal:
    goal: timedelta
    warning: timedelta | None

    @property
    def goal_minutes(self) -> int:
        return self.goal // timedelta(minutes=1)


def handover_goal(
    area_goal_minutes: int,
    area_warning_minutes: int | None,
    goals_by_place_type: Mapping[str, Any] | None,
    place_type: str,
) -> Goal | None:
    """The goal a handover clock starting now runs against, or None where the area sets no
    handover goal for this type of place.

    Defensive about stored settings (they are checked when saved, but a clock must start even
    if a bad one got through): a goal that is not a positive number of minutes falls back to
    the area's, then the default; a warning not strictly between the start and the goal is
    ignored (the clock runs with no warning rather than not at all)."""
    area_goal = _minutes(area_goal_minutes) or HANDOVER_GOAL
    goal, warning = area_goal, _minutes(area_warning_minutes)
    by_type = goals_by_place_type or {}
    if place_type in by_type:
        entry = by_type[place_type]
        if entry is None:
            return None
        if isinstance(entry, Mapping):
            goal = _minutes(entry.get("goal")) or area_goal
            warning = _minutes(entry.get("warning"))
    if warning is not None and not timedelta(0) < warning < goal:
        warning = None
    return Goal(goal, warning)


def config_problems(
    goal_minutes: int, warning_minutes: int, goals_by_place_type: Mapping[str, Any] | None
) -> list[tuple[str, str]]:
    """An area's handover settings that would make a warning come at or after its goal, as
    (field, message), the field named as the client sent it: warnings precede goals at every
    level (the area's pair and each type of place's)."""
    problems = []
    if warning_minutes >= goal_minutes:
        problems.append(
            (
                "handover_warning_minutes",
                f"The handover warning ({warning_minutes} min) must come before the goal "
                f"({goal_minutes} min).",
            )
        )
    for place_type, entry in (goals_by_place_type or {}).items():
        if entry is None:
            continue
        goal, warning = entry.get("goal"), entry.get("warning")
        if goal is not None and warning is not None and warning >= goal:
            problems.append(
                (
                    f"handover_goals_by_place_type.{place_type}.warning",
                    f"The warning ({warning} min) must come before the goal ({goal} min).",
                )
            )
    return problems


def goal_passed(started_at: datetime, goal_minutes: int, now: datetime) -> bool:
    """Strictly after the deadline, as the clock counts it: a handover at exactly the goal
    is within it, and so is an agreement made then."""
    return _utc(now) > _utc(started_at) + timedelta(minutes=goal_minutes)


def check_agreement(
    started_at: datetime, goal_minutes: int, agreed_minutes: int, now: datetime
) -> Refusal | None:
    """S8: both sides may agree a longer handover for an incident, while the goal has not
    passed (after it, an agreement would turn a missed goal into an "agreed" one), and only a
    longer one. None when it may be recorded; the refusal's code says which (the service
    answers `goal_passed` with 409: the request is sound, the moment has gone)."""
    if goal_passed(started_at, goal_minutes, now):
        return Refusal(
            "S8",
            "goal_passed",
            "goal_minutes",
            f"The {goal_minutes}-minute goal has already passed: a longer handover can only be "
            "agreed before it does.",
        )
    if agreed_minutes <= goal_minutes:
        return Refusal(
            "S8",
            "goal_not_longer",
            "goal_minutes",
            f"An agreed goal must be longer than the current {goal_minutes} minutes.",
        )
    return None


@dataclass(frozen=True)
class GoalResult:
    """One handover clock measured against its goal.

    `counted`: whether it counts in a "handed over within goal" share; `within`: whether it
    counts as within (a met goal; an agreed longer goal is reported as agreed, not as met)."""

    result: str
    counted: bool
    within: bool

    @property
    def missed(self) -> bool:
        return self.counted and not self.within and self.result != "agreed"


def clock_result(
    *,
    started_at: datetime,
    goal_minutes: int,
    agreed: bool,
    stopped_at: datetime | None,
    stop_reason: str | None,
    now: datetime,
) -> GoalResult:
    """Within goal for one handover clock.

    An open clock already past its goal counts as missed (`breached`): "within goal" must not
    read 100% while people wait past it. A clock stopped without a handover (an outcome, a
    transfer) is `not_handed_over`, never met; it counts as missed only if its goal had passed
    when it stopped, and otherwise not at all (no handover happened, and no goal was missed).
    """
    if stopped_at is None:
        if goal_passed(started_at, goal_minutes, now):
            return GoalResult("breached", counted=True, within=False)
        return GoalResult("open", counted=False, within=False)
    late = goal_passed(started_at, goal_minutes, stopped_at)
    if stop_reason != HANDED_OVER:
        return GoalResult("not_handed_over", counted=late, within=False)
    if late:
        return GoalResult("missed", counted=True, within=False)
    if agreed:
        return GoalResult("agreed", counted=True, within=False)
    return GoalResult("met", counted=True, within=True)


def detention_result(results: Sequence[GoalResult]) -> str | None:
    """Within goal for a detention (the s136 return): its handover at the place it is at now
    (the last handover clock), except that a goal missed at an earlier place before a transfer
    is not hidden by a later one met. None when it has no handover clock."""
    if not results:
        return None
    last = results[-1]
    if last.result != "breached" and any(r.missed for r in results[:-1]):
        return "missed"
    return last.result


def _minutes(value: object) -> timedelta | None:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        return None
    return timedelta(minutes=value)


def _utc(at: datetime) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("A time must include its UTC offset.")
    return at.astimezone(UTC)
