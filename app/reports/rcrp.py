"""The Right Care, Right Person summary for a period."""

from collections import Counter
from dataclasses import dataclass
from typing import Any

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
    minutes: float  # arrival to handover: officers' time waiting at the place of safety
    within_goal: bool


def rcrp_summary(incidents: list[IncidentRow], handovers: list[HandoverRow]) -> dict[str, Any]:
    minutes = [h.minutes for h in handovers]
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
            "count": len(handovers),
            "median_minutes": median(minutes),
            "p90_minutes": percentile(minutes, 90),
            "within_goal_share": share(sum(1 for h in handovers if h.within_goal), len(handovers)),
        },
    }
