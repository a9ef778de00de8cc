"""The law on s135/s136 detentions as pure rules (shared/domain/s136-and-handover.md): no I/O,
`now` always passed in. The services only orchestrate (app/services/detentions.py).

    check_detention(facts)      # S1, S3, S4, S5, S6, S9 and the times: every refusal, flags
    check_transfer(facts)       # S10 and S3/S4/S5 at the new place
    handover_goal(...)          # the goal a handover clock runs against (S8), defensively
    clock_result(...)           # met / agreed / missed / breached / open / not_handed_over
    welfare_restart(...)        # S4: a check restarts the 30-minute clock
    possible_duplicates(...)    # the same person detained on two incidents within 24 h
    rank_places(...)            # places of safety in the order to offer them for this person
    differences(...)            # what a re-sent detention changes

Explained in docs/handover.md.
"""

from app.s136.duplicates import Detained, Match, possible_duplicates, similar_descriptions
from app.s136.goals import (
    CLOCK_RESULTS,
    ENDED,
    HANDED_OVER,
    TRANSFERRED,
    Goal,
    GoalResult,
    check_agreement,
    clock_result,
    config_problems,
    detention_result,
    goal_passed,
    handover_goal,
)
from app.s136.places import RankedPlace, haversine_km, rank_places, unsuitable_reasons
from app.s136.resend import Difference, differences
from app.s136.rules import (
    POLICE_STATION_REVIEW,
    POSSIBLE_DUPLICATE,
    REVIEW_FLAGS,
    TIMES,
    UNDER_18_UNSUITABLE_PLACE,
    DetentionFacts,
    Place,
    PlaceChoice,
    Refusal,
    TransferFacts,
    Verdict,
    check_detention,
    check_place,
    check_transfer,
)
from app.s136.welfare import WelfareRestart, needs_welfare_checks, welfare_restart

__all__ = [
    "CLOCK_RESULTS",
    "ENDED",
    "HANDED_OVER",
    "POLICE_STATION_REVIEW",
    "POSSIBLE_DUPLICATE",
    "REVIEW_FLAGS",
    "TIMES",
    "TRANSFERRED",
    "UNDER_18_UNSUITABLE_PLACE",
    "Detained",
    "DetentionFacts",
    "Difference",
    "Goal",
    "GoalResult",
    "Match",
    "Place",
    "PlaceChoice",
    "RankedPlace",
    "Refusal",
    "TransferFacts",
    "Verdict",
    "WelfareRestart",
    "check_agreement",
    "check_detention",
    "check_place",
    "check_transfer",
    "clock_result",
    "config_problems",
    "detention_result",
    "differences",
    "goal_passed",
    "handover_goal",
    "haversine_km",
    "needs_welfare_checks",
    "possible_duplicates",
    "rank_places",
    "similar_descriptions",
    "unsuitable_reasons",
    "welfare_restart",
]
