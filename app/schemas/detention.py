from typing import Annotated, Literal

from pydantic import Field, StrictBool, StringConstraints

from app.schemas.common import FreeText, InputModel, OneLine, OutputModel, UtcDatetime
from app.schemas.incident import LocationKind

Power = Literal["s136", "s135"]
Consultee = Literal["mh_nurse", "doctor", "paramedic", "amhp", "other"]
Vehicle = Literal["ambulance", "police_vehicle", "other_health_vehicle", "other", "none"]
# A transfer may be recorded before anyone knows how the person was moved (the contract's body
# is {at, place_of_safety_id}).
TransferVehicle = Vehicle | Literal["not_known"]
Gender = Literal["female", "male", "other", "not_known"]
Ethnicity = Literal["white", "black", "asian", "mixed", "other", "not_known"]
Outcome = Literal[
    "admitted_informally",
    "detained_s2",
    "detained_s3",
    "discharged_with_referral",
    "no_further_action",
]
ClockKind = Literal["handover", "assessment", "detention", "welfare_check"]
ClockState = Literal["waiting", "warning", "breached", "handed_over", "stopped"]
# Why a clock stopped: only `handed_over` is a handover (an outcome first is `ended`).
StopReason = Literal["handed_over", "transferred", "ended", "assessed"]
Reason = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000), FreeText
]
Who = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), OneLine
]


class Consultation(InputModel):
    who: Consultee
    at: UtcDatetime


class Warrant(InputModel):
    """S9: s135 needs a warrant from a magistrate to enter a dwelling."""

    issued_by: Who
    issued_at: UtcDatetime


class DetainedPerson(InputModel):
    age: Annotated[int, Field(ge=0, le=120)] | None = None
    gender: Gender = "not_known"
    ethnicity: Ethnicity = "not_known"


class PlaceChoiceFields(InputModel):
    """What the rules ask for when a place is exceptional for this person (S3, S4, S5)."""

    # S4: a police station for an adult needs an inspector's authority and the reason.
    police_station_reason: Reason | None = None
    authorised_by: Who | None = None
    # S3: age unknown at a police station: why the officer believes the person is 18 or over.
    believed_adult_reason: Reason | None = None
    # S5: an under-18 at a place that does not take under-18s: why (flagged for review).
    under_18_place_reason: Reason | None = None


class DetentionCreate(PlaceChoiceFields):
    power: Power = "s136"
    detained_at: UtcDatetime
    # S9: where the person was when detained (the incident's location kinds); defaults to the
    # incident's location. s136 is refused in a private dwelling.
    found_in: LocationKind | None = None
    # S9: s135 only: the warrant (who issued it, when: before the detention).
    warrant: Warrant | None = None
    # S1: who was consulted before detaining, or why that was not practicable.
    consulted: Consultation | None = None
    not_consulted_reason: Reason | None = None
    # Null when not yet known.
    place_of_safety_id: int | None = None
    vehicle: Vehicle
    # S6: for a police vehicle, whether an ambulance was requested and why it was not used.
    ambulance_requested: StrictBool | None = None
    police_vehicle_reason: Reason | None = None
    person: DetainedPerson = Field(default_factory=DetainedPerson)


class TimeRecord(InputModel):
    """A time as it happened; may be entered late, not more than 2 minutes ahead."""

    at: UtcDatetime


class ArrivalRecord(TimeRecord, PlaceChoiceFields):
    # The place arrived at, if not chosen when the detention was recorded (or changed since).
    place_of_safety_id: int | None = None


class TransferRecord(TimeRecord, PlaceChoiceFields):
    """S10: the person moved to another place of safety; `at` is the arrival there."""

    place_of_safety_id: int
    vehicle: TransferVehicle = "not_known"
    reason: Reason | None = None


class HandoverRecord(TimeRecord):
    received_by: Who


class HandoverAgreement(InputModel):
    """Both sides agree a longer handover for this incident (applies to the running clock)."""

    goal_minutes: Annotated[int, Field(ge=5, le=24 * 60)]
    agreed_by: Who
    reason: Reason


class ExtensionRecord(TimeRecord):
    hours: Annotated[int, Field(ge=1, le=12)]
    doctor: Who
    reason: Reason
    # At a police station a superintendent must also approve.
    superintendent: Who | None = None


class WelfareCheckRecord(TimeRecord):
    by: Who


class OutcomeRecord(TimeRecord):
    outcome: Outcome


class ClockOut(OutputModel):
    id: int
    kind: ClockKind
    state: ClockState
    started_at: UtcDatetime
    deadline_at: UtcDatetime
    elapsed_minutes: int
    goal_minutes: int
    warning_minutes: int | None
    agreed: bool
    stopped_at: UtcDatetime | None
    within_goal: bool | None
    # met | agreed | missed once stopped; not_handed_over for a handover clock stopped by an
    # outcome or a transfer (not a handover).
    outcome: str | None
    stop_reason: StopReason | None = None
    # Handover and welfare-check clocks: the place the clock runs at.
    place_of_safety_id: int | None = None
    # Handover clocks: who at that place took the person.
    received_by: str | None = None


class TransferOut(OutputModel):
    at: UtcDatetime
    from_place_of_safety_id: int | None
    to_place_of_safety_id: int
    to_place_of_safety: str | None
    vehicle: TransferVehicle
    reason: str | None


class ClockBoardRow(OutputModel):
    """A clock on the supervisors' board: the clock events' fields, and what the row shows."""

    incident_id: int
    detention_id: int
    clock: ClockKind
    state: ClockState
    started_at: UtcDatetime
    deadline_at: UtcDatetime
    elapsed_minutes: int
    # Whole minutes until the deadline, negative once it has passed.
    minutes_left: int
    goal_minutes: int
    warning_minutes: int | None
    agreed: bool
    stopped_at: UtcDatetime | None
    within_goal: bool | None
    outcome: str | None
    place_of_safety_id: int | None
    place_of_safety: str | None
    unit: str | None
    age_band: Literal["under_18", "18_and_over", "not_known"]


class DetentionOut(OutputModel):
    id: int
    incident_id: int
    power: Power
    detained_at: UtcDatetime
    found_in: str | None
    warrant: Warrant | None
    consulted: Consultation | None
    not_consulted_reason: str | None
    # Where the person is now (after any transfer), and the first place (the return's).
    place_of_safety_id: int | None
    place_of_safety: str | None
    place_type: str
    first_place_of_safety_id: int | None
    police_station_reason: str | None
    authorised_by: str | None
    believed_adult_reason: str | None
    under_18_place_reason: str | None
    review_required: bool
    # e.g. police_station_review, under_18_unsuitable_place, possible_duplicate
    flags: list[str]
    vehicle: Vehicle
    ambulance_requested: bool | None
    police_vehicle_reason: str | None
    person: DetainedPerson
    unit: str | None
    arrived_at: UtcDatetime | None
    handover_at: UtcDatetime | None
    received_by: str | None
    handover_agreed_by: str | None
    handover_agreed_reason: str | None
    assessment_at: UtcDatetime | None
    extension_hours: int
    extension_at: UtcDatetime | None
    extension_by: str | None
    extension_reason: str | None
    extension_superintendent: str | None
    outcome: Outcome | None
    ended_at: UtcDatetime | None
    # Every clock, oldest first: after a transfer, one handover clock per place.
    clocks: list[ClockOut]
    transfers: list[TransferOut]


class HandoverOut(OutputModel):
    incident_id: int
    detention_id: int
    place_of_safety: str | None
    place_of_safety_id: int | None
    place_of_safety_type: str
    unit: str | None
    arrived_at: UtcDatetime
    deadline_at: UtcDatetime
    elapsed_minutes: int
    goal_minutes: int
    warning_minutes: int | None
    state: ClockState
    within_goal: bool | None
    agreed: bool
    handed_over_at: UtcDatetime | None
