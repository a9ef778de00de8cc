"""The Right Care, Right Person summary for a period."""

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app import s136
from app.clocks import median, percentile, share
from app.rcrp import POLICE_OUTCOMES

# Calls made to the police: where RCRP decides whether officers go.
POLICE_SOURCES = frozenset({"police_999", "police_101"})


@dataclass(frozen=True)
class IncidentRow:
    source: str
    category: str
    outcome: str  # the rules' outcome
    effective_outcome: str  # after any override
    overridden: bool


@dataclass(frozen=True)
class HandoverRow:
    """One handover clock, running or stopped."""

    started_at: datetime  # arrival at the place of safety
    goal_minutes: int
    agreed: bool
    stopped_at: datetime | None
    stop_reason: str | None  # only "handed_over" is a handover

    def result(self, now: datetime) -> s136.GoalResult:
        return s136.clock_result(
            started_at=self.started_at,
            goal_minutes=self.goal_minutes,
            agreed=self.agreed,
            stopped_at=self.stopped_at,
            stop_reason=self.stop_reason,
            now=now,
        )

    @property
    def handed_over_minutes(self) -> float | None:
        """Officers' time waiting at the place of safety, arrival to handover."""
        if self.stopped_at is None or self.stop_reason != s136.HANDED_OVER:
            return None
        return round((self.stopped_at - self.started_at).total_seconds() / 60, 1)


def rcrp_summary(
    incidents: list[IncidentRow], handovers: list[HandoverRow], now: datetime
) -> dict[str, Any]:
    minutes = [m for h in handovers if (m := h.handed_over_minutes) is not None]
    results = [h.result(now) for h in handovers]
    # "Within goal" counts every handover whose goal is decided: handed over (met, agreed,
    # missed), still waiting past the goal (missed already), or stopped without a handover
    # after the goal passed. An agreed longer handover is not counted as within.
    counted = [r for r in results if r.counted]
    overridden = [i for i in incidents if i.overridden]
    return {
        "incidents_total": len(incidents),
        "by_source": dict(Counter(i.source for i in incidents)),
        "by_category": dict(Counter(i.category for i in incidents)),
        "by_outcome": dict(Counter(i.outcome for i in incidents)),
        "by_effective_outcome": dict(Counter(i.effective_outcome for i in incidents)),
        "overrides": len(overridden),
        "overrides_by_change": dict(
            Counter(f"{i.outcome}→{i.effective_outcome}" for i in overridden)
        ),
        # Calls to the police that, decided under RCRP, sent no officers. An officer already on
        # scene asking the nurse (nurse_advice) is not counted: police were there anyway.
        "police_attendances_avoided": sum(
            1
            for i in incidents
            if i.source in POLICE_SOURCES
            and i.effective_outcome not in POLICE_OUTCOMES
            and i.effective_outcome != "nurse_advice"
        ),
        "handovers": {
            "count": len(minutes),
            "median_minutes": median(minutes),
            "p90_minutes": percentile(minutes, 90),
            "within_goal_share": share(sum(1 for r in counted if r.within), len(counted)),
            "counted_for_goal": len(counted),
            "open_past_goal": sum(1 for r in results if r.result == "breached"),
            "not_handed_over": sum(1 for r in results if r.result == "not_handed_over"),
        },
    }
