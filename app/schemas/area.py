from typing import Annotated

from pydantic import Field, StringConstraints

from app.schemas.common import InputModel, OneLine, OutputModel
from app.schemas.incident import Category
from app.schemas.place_of_safety import PlaceType

AreaCode = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$")]


class RcrpScope(InputModel):
    # The categories in scope of RCRP in this area; null means all of them.
    categories: list[Category] | None = None
    # The youngest age in scope; younger people are outside RCRP here (police_standard).
    min_age: Annotated[int, Field(ge=0, le=120)] = 0


class HandoverGoal(InputModel):
    goal: Annotated[int, Field(ge=5, le=24 * 60)]
    warning: Annotated[int, Field(ge=1, le=24 * 60)]


# Per type of place: a goal of its own, or null for no handover goal there.
GoalsByPlaceType = dict[PlaceType, HandoverGoal | None]


class AreaFields(InputModel):
    name: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), OneLine
    ]
    rule_set: Annotated[str, StringConstraints(min_length=1, max_length=80), OneLine] = "default"
    rcrp_scope: RcrpScope = Field(default_factory=RcrpScope)
    handover_goal_minutes: Annotated[int, Field(ge=5, le=24 * 60)] = 60
    handover_warning_minutes: Annotated[int, Field(ge=1, le=24 * 60)] = 45
    ack_timeout_seconds: Annotated[int, Field(ge=10, le=3600)] = 120
    # Risk to life (police_immediate, police_and_triage): a shorter limit to accept an offer.
    urgent_ack_timeout_seconds: Annotated[int, Field(ge=10, le=600)] = 30
    # An incident that sends none of our units must be handed off or closed within this time.
    task_limit_minutes: Annotated[int, Field(ge=1, le=24 * 60)] = 10
    # An open escalation is announced again this often until a supervisor acknowledges it.
    escalation_repeat_seconds: Annotated[int, Field(ge=10, le=3600)] = 120
    # An accepted job with no status change for this long is escalated.
    stale_job_minutes: Annotated[int, Field(ge=1, le=24 * 60)] = 20
    # Need to know: a unit reads an incident's person data until this long after clearing it.
    crew_access_hours: Annotated[int, Field(ge=0, le=7 * 24)] = 12
    # A closed incident's person data is pseudonymised this long after it closed.
    retention_days: Annotated[int, Field(ge=30, le=10 * 366)] = 365
    handover_goals_by_place_type: GoalsByPlaceType = Field(default_factory=dict)


class AreaCreate(AreaFields):
    code: AreaCode


class AreaUpdate(InputModel):
    name: (
        Annotated[
            str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), OneLine
        ]
        | None
    ) = None
    rule_set: Annotated[str, StringConstraints(min_length=1, max_length=80), OneLine] | None = None
    rcrp_scope: RcrpScope | None = None
    handover_goal_minutes: Annotated[int, Field(ge=5, le=24 * 60)] | None = None
    handover_warning_minutes: Annotated[int, Field(ge=1, le=24 * 60)] | None = None
    ack_timeout_seconds: Annotated[int, Field(ge=10, le=3600)] | None = None
    urgent_ack_timeout_seconds: Annotated[int, Field(ge=10, le=600)] | None = None
    task_limit_minutes: Annotated[int, Field(ge=1, le=24 * 60)] | None = None
    escalation_repeat_seconds: Annotated[int, Field(ge=10, le=3600)] | None = None
    stale_job_minutes: Annotated[int, Field(ge=1, le=24 * 60)] | None = None
    crew_access_hours: Annotated[int, Field(ge=0, le=7 * 24)] | None = None
    retention_days: Annotated[int, Field(ge=30, le=10 * 366)] | None = None
    handover_goals_by_place_type: GoalsByPlaceType | None = None


class AreaOut(OutputModel):
    code: str
    name: str
    rule_set: str
    rcrp_scope: RcrpScope
    handover_goal_minutes: int
    handover_warning_minutes: int
    ack_timeout_seconds: int
    urgent_ack_timeout_seconds: int
    task_limit_minutes: int
    escalation_repeat_seconds: int
    stale_job_minutes: int
    crew_access_hours: int
    retention_days: int
    handover_goals_by_place_type: dict[str, HandoverGoal | None]
