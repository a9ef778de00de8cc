"""Report arithmetic: periods as Europe/London civil days, age bands and the statistics the
reports quote (median, p90). Pure: `now` is always a parameter."""

import math
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from app.clocks.clock import RESOLUTION, ClockError

# Reports are read by people in England: a "day" is a London civil day (23 or 25 hours when the
# clocks change), never a UTC day.
LONDON = ZoneInfo("Europe/London")
# A whole leap year of days, counted on London calendars.
MAX_PERIOD_DAYS = 366
ADULT_AGE = 18


def london_day_bounds(day: date) -> tuple[datetime, datetime]:
    """[start, end) in UTC of a London civil day. Midnight always exists in London (the clocks
    change at 01:00 UTC), so both ends are unambiguous."""
    start = datetime.combine(day, time(0), tzinfo=LONDON)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=LONDON)
    return start.astimezone(UTC), end.astimezone(UTC)


def london_date(at: datetime) -> date:
    """The London civil date of an instant (e.g. to group detentions by day)."""
    _require_aware(at, "at")
    return at.astimezone(LONDON).date()


def parse_period(
    from_: date | datetime | None, to: date | datetime | None, now: datetime
) -> tuple[datetime, datetime]:
    """A report period as [start, end) in UTC.

    A date means a whole London day (so `to` includes its day); a datetime is taken as given
    (`to` exclusive) and must carry its offset. Neither given: today in London. Only `from`:
    up to the end of today. Only `to`: from the start of the London day the period ends in.
    An empty or reversed period is refused.
    """
    end = _bound(to, "to", end=True) if to is not None else None
    if from_ is not None:
        start = _bound(from_, "from", end=False)
    else:
        # The London day the period ends in (its last instant, as `end` is exclusive).
        last = end - RESOLUTION if end is not None else now
        start = london_day_bounds(london_date(last))[0]
    if end is None:
        end = london_day_bounds(london_date(now))[1]
    if start >= end:
        raise ClockError("from", "The period must start before it ends.", "invalid_period")
    if _london_wall(end) - _london_wall(start) > timedelta(days=MAX_PERIOD_DAYS):
        raise ClockError(
            "to", f"A period may cover at most {MAX_PERIOD_DAYS} days.", "invalid_period"
        )
    return start, end


def age_band(age: int | None) -> str:
    """The Home Office return's age band."""
    if age is None:
        return "not_known"
    if age < 0:
        raise ValueError("An age cannot be negative.")
    return "under_18" if age < ADULT_AGE else "18_and_over"


def median(values: Sequence[float]) -> float | None:
    """The median, or None when there is nothing to summarise (not 0: that would read as data)."""
    return percentile(values, 50)


def percentile(values: Sequence[float], p: float) -> float | None:
    """The p-th percentile (0-100) by linear interpolation between closest ranks, as numpy's
    default "linear" method, so figures match a spreadsheet or notebook check. None if empty."""
    if not 0 <= p <= 100:
        raise ValueError("A percentile is between 0 and 100.")
    ordered = sorted(float(v) for v in values)
    if not ordered:
        return None
    rank = (len(ordered) - 1) * p / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (rank - low) * (ordered[high] - ordered[low])


def share(count: int, total: int) -> float | None:
    """count / total (e.g. handed over within goal), or None when there is nothing to divide."""
    return None if total == 0 else count / total


def _bound(value: date | datetime, field: str, end: bool) -> datetime:
    # datetime is a subclass of date: test it first.
    if isinstance(value, datetime):
        _require_aware(value, field)
        return value.astimezone(UTC)
    start, stop = london_day_bounds(value)
    return stop if end else start


def _london_wall(at: datetime) -> datetime:
    # Calendar distance in London, so 366 whole days pass even across a clock change.
    return at.astimezone(LONDON).replace(tzinfo=None)


def _require_aware(at: datetime, field: str) -> None:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ClockError(field, "A time must include its UTC offset.", "invalid_period")
