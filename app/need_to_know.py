"""Who may see which person data, and until when (pure: the facts and `now` are passed in).

The table these rules implement, role by role, is in docs/security.md ("Need to know"). A unit
(a triage car's crew, or the nurse desk) sees an incident's person data only once it has taken
the job, and only until its area's `crew_access_hours` after it cleared it; an s136 record only
if it recorded it (a crew) or was consulted on that incident (the nurse desk). Supervisors see
their area's; call handlers the incidents, but neither the nurse's advice nor detentions; admins
no person data at all.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

# The unit has the job now; and the statuses in which it took it at some point.
ON_THE_JOB = frozenset({"accepted", "en_route", "on_scene"})
UNIT_ROLES = frozenset({"crew", "nurse"})


@dataclass(frozen=True, slots=True)
class Job:
    """One of a unit's assignments on an incident: its status and when it last changed (for a
    cleared one, when it cleared: a cleared assignment never changes again)."""

    status: str
    changed_at: datetime


def unit_may_see(jobs: Iterable[Job], *, now: datetime, access: timedelta) -> bool:
    """Whether a unit may read the incident its `jobs` are on: it has the job, or cleared it
    less than `access` ago. An offer it has not accepted, declined, let expire or was withdrawn
    from gives it nothing (the offer's summary is all it needs to decide)."""
    return any(
        job.status in ON_THE_JOB or (job.status == "cleared" and now < job.changed_at + access)
        for job in jobs
    )


def unit_may_be_sent_summary(jobs: Iterable[Job], *, now: datetime, access: timedelta) -> bool:
    """Whether an event's need-to-know summary may (still) go to the unit, e.g. when a tablet
    replays what it missed: while it is offered the job (to decide) or has it, and until
    `access` after clearing it, as for the incident itself. An offer it let go, or a job it was
    stood down from, no longer concerns it."""
    return any(job.status == "offered" for job in jobs) or unit_may_see(
        jobs, now=now, access=access
    )


@dataclass(frozen=True, slots=True)
class DetentionFacts:
    recorded_by_unit: str | None  # the detention's unit (None: recorded with no unit)
    ended_at: datetime | None  # its outcome's time, once recorded


def crew_may_see_detention(
    facts: DetentionFacts, unit_callsign: str | None, *, now: datetime, access: timedelta
) -> bool:
    """The recording unit's crew, while the detention runs and for `access` after it ended. A
    detention recorded with no unit is no crew's (supervisors only)."""
    if unit_callsign is None or facts.recorded_by_unit != unit_callsign:
        return False
    return facts.ended_at is None or now < facts.ended_at + access


def may_see_detention(
    role: str,
    facts: DetentionFacts,
    *,
    unit_callsign: str | None,
    desk_consulted: bool,
    now: datetime,
    access: timedelta,
) -> bool:
    """`desk_consulted`: the nurse desk took an advice request on this incident and may still
    see it (`unit_may_see` of its jobs there)."""
    if role == "supervisor":
        return True
    if role == "crew":
        return crew_may_see_detention(facts, unit_callsign, now=now, access=access)
    if role == "nurse":
        return desk_consulted
    return False


def may_change_detention(
    role: str, facts: DetentionFacts, *, unit_callsign: str | None, now: datetime, access: timedelta
) -> bool:
    """Steps are recorded by the recording unit's crew (in the same window as it may read) and
    by supervisors; the nurse desk advises, it does not record."""
    if role == "supervisor":
        return True
    return role == "crew" and crew_may_see_detention(facts, unit_callsign, now=now, access=access)


def sees_advice(role: str) -> bool:
    """The nurse desk's advice (and whether s136 was then used) is for the unit that asked, the
    desk itself and supervisors: any unit that may read the incident at all is one of those. Call
    handlers dispatched the request; they do not need the clinical answer."""
    return role == "supervisor" or role in UNIT_ROLES
