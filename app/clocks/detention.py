"""S2: a section 135/136 detention lasts at most 24 hours from arrival at the place of safety; the
responsible doctor may extend it once or more by at most 12 hours in all, before it ends; at a
police station a superintendent must also approve. Pure: `now` is always a parameter."""

from datetime import datetime, timedelta

from app.clocks.clock import ClockError, ClockSpec, check_not_future, check_order, deadline

DETENTION_LIMIT = timedelta(hours=24)
MAX_EXTENSION = timedelta(hours=12)
# Supervisors are alerted this long before the (possibly extended) limit.
DETENTION_WARNING_BEFORE = timedelta(hours=2)

_MAX_EXTENSION_HOURS = MAX_EXTENSION // timedelta(hours=1)


def detention_limit(started_at: datetime, extension_hours: int = 0) -> datetime:
    """When the detention ends unless extended further (24 h plus any extension)."""
    return deadline(detention_spec(started_at, extension_hours))


def detention_spec(started_at: datetime, extension_hours: int = 0) -> ClockSpec:
    """The detention clock: 24 h plus the extension, warning 2 h before the limit."""
    goal = _goal(extension_hours)
    return ClockSpec("detention", started_at, goal, goal - DETENTION_WARNING_BEFORE)


def check_extension(
    started_at: datetime,
    now: datetime,
    requested_at: datetime,
    hours: int,
    existing_extension_hours: int,
    at_police_station: bool,
    superintendent: str | None,
) -> None:
    """Refuse an extension the law does not allow; return None when it may be recorded.

    `requested_at` is when the doctor extended, as recorded (it may be entered late): what
    counts is that the decision was made before the limit, not when it was typed in.
    """
    if isinstance(hours, bool) or not 1 <= hours <= _MAX_EXTENSION_HOURS:
        raise _refused("hours", f"An extension is 1 to {_MAX_EXTENSION_HOURS} hours.")
    check_not_future(requested_at, now, "at")
    check_order(started_at, requested_at, "arrived_at", "at")
    remaining = _MAX_EXTENSION_HOURS - existing_extension_hours
    if hours > remaining:
        raise _refused(
            "hours",
            f"A detention may be extended by at most {_MAX_EXTENSION_HOURS} hours in all; "
            f"{max(remaining, 0)} remain.",
        )
    # Same boundary as the clock: the detention is over strictly after its limit.
    if requested_at > detention_limit(started_at, existing_extension_hours):
        raise _refused("at", "The detention had already expired; it can no longer be extended.")
    if at_police_station and not (superintendent and superintendent.strip()):
        raise _refused(
            "superintendent", "At a police station a superintendent must approve an extension."
        )


def _goal(extension_hours: int) -> timedelta:
    if isinstance(extension_hours, bool) or not 0 <= extension_hours <= _MAX_EXTENSION_HOURS:
        raise _refused(
            "extension_hours", f"The extension is 0 to {_MAX_EXTENSION_HOURS} hours in all."
        )
    return DETENTION_LIMIT + timedelta(hours=extension_hours)


def _refused(field: str, message: str) -> ClockError:
    return ClockError(field, message, "extension_refused")
