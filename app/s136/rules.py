"""The law on a proposed s135/s136 detention, as one pure check (rules of
shared/domain/s136-and-handover.md): every refusal, in a fixed order, and the flags to set.

    verdict = check_detention(DetentionFacts.from_json({...}))
    verdict.refusals  # [Refusal(rule="S9", code="s136_in_private_dwelling", field="found_in", …)]
    verdict.flags     # ["police_station_review", "under_18_unsuitable_place"]

The tablet runs the same rules (app/static/tablet/s136-rules.js) on the same facts; both are
held to one table of cases (tests/data/s136_rule_cases.json). No I/O: `now` is one of the facts.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

# Times entered by people may run slightly ahead of the server (device clocks drift): as the
# clocks (app/clocks) allow.
MAX_SKEW = timedelta(minutes=2)
ADULT_AGE = 18

# The rule id of a refusal about a recorded time that is not a law of its own ("times are as
# they happened": the handover section of the specification).
TIMES = "TIMES"

# Flags a detention may carry (detentions.flags); the first two come from these rules.
POLICE_STATION_REVIEW = "police_station_review"  # S4: every police-station use is reviewed
UNDER_18_UNSUITABLE_PLACE = "under_18_unsuitable_place"  # S5: a child where children are not taken
POSSIBLE_DUPLICATE = "possible_duplicate"  # the same person detained on two incidents
REVIEW_FLAGS = frozenset({POLICE_STATION_REVIEW, UNDER_18_UNSUITABLE_PLACE})


@dataclass(frozen=True)
class Refusal:
    """One rule a proposed record breaks: the rule id, a stable code, the request field to fix,
    and a sentence for the person recording it."""

    rule: str
    code: str
    field: str
    message: str

    def as_json(self) -> dict[str, str]:
        return {"rule": self.rule, "code": self.code, "field": self.field, "message": self.message}


@dataclass(frozen=True)
class Verdict:
    refusals: tuple[Refusal, ...]
    flags: tuple[str, ...]

    @property
    def accepted(self) -> bool:
        return not self.refusals


@dataclass(frozen=True)
class Place:
    """What the rules need of a place of safety."""

    type: str
    accepts_under_18: bool

    @property
    def is_police_station(self) -> bool:
        return self.type == "police_station"


@dataclass(frozen=True)
class PlaceChoice:
    """A person taken to a place, with what the rules ask for when it is an exceptional one."""

    age: int | None
    place: Place | None
    police_station_reason: str | None = None
    authorised_by: str | None = None
    believed_adult_reason: str | None = None
    under_18_place_reason: str | None = None


@dataclass(frozen=True)
class DetentionFacts:
    """A proposed detention as the rules see it (the same shape as the tablet's facts)."""

    now: datetime
    detained_at: datetime
    power: str = "s136"
    found_in: str | None = None
    warrant_issued_by: str | None = None
    warrant_issued_at: datetime | None = None
    warrant_given: bool = False
    consulted_who: str | None = None
    consulted_at: datetime | None = None
    not_consulted_reason: str | None = None
    vehicle: str | None = None
    ambulance_requested: bool | None = None
    police_vehicle_reason: str | None = None
    choice: PlaceChoice = field(default_factory=lambda: PlaceChoice(age=None, place=None))

    def __post_init__(self) -> None:
        # Instants in UTC: Python compares two times sharing a zone by wall clock.
        for name in ("now", "detained_at", "warrant_issued_at", "consulted_at"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, _utc(value))

    @classmethod
    def from_json(cls, facts: Mapping[str, Any]) -> "DetentionFacts":
        """The facts as JSON (ISO 8601 times with offset), as the case table and tablet hold
        them: {now, power, detained_at, found_in, warrant: {issued_by, issued_at} | null,
        consulted: {who, at} | null, not_consulted_reason, age, believed_adult_reason,
        place: {type, accepts_under_18} | null, police_station_reason, authorised_by,
        under_18_place_reason, vehicle, ambulance_requested, police_vehicle_reason}."""
        warrant = facts.get("warrant")
        consulted = facts.get("consulted")
        place = facts.get("place")
        return cls(
            now=_time(facts["now"]),
            detained_at=_time(facts["detained_at"]),
            power=facts.get("power") or "s136",
            found_in=facts.get("found_in"),
            warrant_given=warrant is not None,
            warrant_issued_by=warrant.get("issued_by") if warrant else None,
            warrant_issued_at=_time(warrant.get("issued_at")) if warrant else None,
            consulted_who=consulted.get("who") if consulted else None,
            consulted_at=_time(consulted.get("at")) if consulted else None,
            not_consulted_reason=facts.get("not_consulted_reason"),
            vehicle=facts.get("vehicle"),
            ambulance_requested=facts.get("ambulance_requested"),
            police_vehicle_reason=facts.get("police_vehicle_reason"),
            choice=PlaceChoice(
                age=facts.get("age"),
                place=(
                    Place(type=place["type"], accepts_under_18=bool(place.get("accepts_under_18")))
                    if place
                    else None
                ),
                police_station_reason=facts.get("police_station_reason"),
                authorised_by=facts.get("authorised_by"),
                believed_adult_reason=facts.get("believed_adult_reason"),
                under_18_place_reason=facts.get("under_18_place_reason"),
            ),
        )


def check_detention(facts: DetentionFacts) -> Verdict:
    """Every refusal, in this fixed order (the order a detention happens in): the detention's
    time; where the person was found (S9); the s135 warrant (S9); consultation (S1); the place
    (S3, S4, S5); conveyance (S6). Then the flags for supervisors and the review."""
    refusals: list[Refusal] = []
    if _ahead(facts.detained_at, facts.now):
        refusals.append(_in_future("detained_at"))
    refusals += _where_found(facts)
    refusals += _warrant(facts)
    refusals += _consultation(facts)
    place = check_place(facts.choice)
    refusals += place.refusals
    refusals += _conveyance(facts)
    return Verdict(tuple(refusals), place.flags)


def check_place(choice: PlaceChoice) -> Verdict:
    """S3, S4 and S5 for a person taken to a place (when detained, on arrival, on a transfer).

    S3: never a police station for anyone under 18; a person of unknown age only with an
    explicit belief that they are 18 or over, and why. S4: for an adult, only with the reason
    and an inspector's authority, and every such use is reviewed. S5: a child at a place that
    does not take under-18s only with a reason, flagged for review (never silently refused).
    """
    place, age = choice.place, choice.age
    refusals: list[Refusal] = []
    flags: list[str] = []
    if place is None:
        return Verdict((), ())
    child = age is not None and age < ADULT_AGE
    if place.is_police_station:
        if child:
            refusals.append(
                Refusal(
                    "S3",
                    "police_station_under_18",
                    "place_of_safety_id",
                    "A police station may never be used as a place of safety for anyone under "
                    "18 (S3).",
                )
            )
            return Verdict(tuple(refusals), ())
        if age is None and not _given(choice.believed_adult_reason):
            refusals.append(
                Refusal(
                    "S3",
                    "age_unknown_at_police_station",
                    "believed_adult_reason",
                    "The person's age is not known: a police station needs an explicit belief "
                    "that they are 18 or over, and why (S3).",
                )
            )
        for field_name, what in (
            ("police_station_reason", "the reason"),
            ("authorised_by", "the authorising inspector"),
        ):
            if not _given(getattr(choice, field_name)):
                refusals.append(
                    Refusal(
                        "S4",
                        "police_station_needs_authority",
                        field_name,
                        f"A police station needs {what}: only in exceptional circumstances, "
                        "authorised by an inspector or above (S4).",
                    )
                )
        flags.append(POLICE_STATION_REVIEW)
    elif child and not place.accepts_under_18:
        if not _given(choice.under_18_place_reason):
            refusals.append(
                Refusal(
                    "S5",
                    "under_18_place_reason_required",
                    "under_18_place_reason",
                    "This place does not take under-18s: say why the person is taken there; "
                    "it will be flagged for review (S5).",
                )
            )
        flags.append(UNDER_18_UNSUITABLE_PLACE)
    return Verdict(tuple(refusals), tuple(flags))


@dataclass(frozen=True)
class TransferFacts:
    """S10: the person moved to another place of safety; `at` is the arrival there."""

    now: datetime
    at: datetime
    first_arrived_at: datetime
    # The arrival at the place the person is leaving (the first arrival, or the last transfer).
    current_since: datetime
    current_place_id: int | None
    to_place_id: int
    choice: PlaceChoice

    def __post_init__(self) -> None:
        for name in ("now", "at", "first_arrived_at", "current_since"):
            object.__setattr__(self, name, _utc(getattr(self, name)))


def check_transfer(facts: TransferFacts) -> Verdict:
    """A transfer's time (not ahead, not before the arrival at the place being left, so never
    before the first arrival), a different place, and S3/S4/S5 at the new place."""
    refusals: list[Refusal] = []
    if _ahead(facts.at, facts.now):
        refusals.append(_in_future("at"))
    elif facts.at < max(facts.first_arrived_at, facts.current_since):
        refusals.append(
            Refusal(
                "S10",
                "time_out_of_order",
                "at",
                "The arrival at the new place cannot be before the arrival at the place the "
                f"person left ({_utc(facts.current_since).isoformat()}) (S10).",
            )
        )
    if facts.to_place_id == facts.current_place_id:
        refusals.append(
            Refusal(
                "S10",
                "same_place",
                "place_of_safety_id",
                "The person is already at that place of safety (S10).",
            )
        )
    place = check_place(facts.choice)
    return Verdict(tuple(refusals) + place.refusals, place.flags)


def _where_found(facts: DetentionFacts) -> list[Refusal]:
    if facts.power == "s136" and facts.found_in == "private_dwelling":
        return [
            Refusal(
                "S9",
                "s136_in_private_dwelling",
                "found_in",
                "s136 cannot be used in a private dwelling; use s135 with a warrant (S9).",
            )
        ]
    return []


def _warrant(facts: DetentionFacts) -> list[Refusal]:
    if facts.power != "s135":
        if facts.warrant_given:
            return [
                Refusal(
                    "S9",
                    "warrant_only_for_s135",
                    "warrant",
                    "A warrant is recorded only for s135: choose s135, or leave it out (S9).",
                )
            ]
        return []
    if not (_given(facts.warrant_issued_by) and facts.warrant_issued_at is not None):
        return [
            Refusal(
                "S9",
                "warrant_required",
                "warrant",
                "s135 needs the warrant: who issued it and when (S9).",
            )
        ]
    if _ahead(facts.warrant_issued_at, facts.now):
        return [_in_future("warrant.issued_at")]
    if facts.warrant_issued_at > facts.detained_at:
        return [
            Refusal(
                "S9",
                "warrant_after_detention",
                "warrant.issued_at",
                "The warrant must have been issued before the detention (S9).",
            )
        ]
    return []


def _consultation(facts: DetentionFacts) -> list[Refusal]:
    if facts.consulted_who is None:
        if _given(facts.not_consulted_reason):
            return []
        return [
            Refusal(
                "S1",
                "consultation_required",
                "consulted",
                "Record who was consulted before detaining, or why it was not practicable (S1).",
            )
        ]
    if facts.consulted_at is None:
        return [
            Refusal(
                "S1",
                "consultation_required",
                "consulted.at",
                "Say when the consultation happened (S1).",
            )
        ]
    if _ahead(facts.consulted_at, facts.now):
        return [_in_future("consulted.at")]
    if facts.consulted_at > facts.detained_at:
        return [
            Refusal(
                "S1",
                "consultation_after_detention",
                "consulted.at",
                "The consultation must come before the detention (S1).",
            )
        ]
    return []


def _conveyance(facts: DetentionFacts) -> list[Refusal]:
    if facts.vehicle != "police_vehicle":
        return []
    refusals = []
    if facts.ambulance_requested is None:
        refusals.append(
            Refusal(
                "S6",
                "ambulance_request_required",
                "ambulance_requested",
                "Say whether an ambulance was requested (S6).",
            )
        )
    if not _given(facts.police_vehicle_reason):
        refusals.append(
            Refusal(
                "S6",
                "police_vehicle_reason_required",
                "police_vehicle_reason",
                "Say why a police vehicle was used rather than an ambulance (S6).",
            )
        )
    return refusals


def _in_future(field_name: str) -> Refusal:
    return Refusal(
        TIMES,
        "time_in_future",
        field_name,
        "That time is in the future; record a time as it happened.",
    )


def _ahead(at: datetime, now: datetime) -> bool:
    return _utc(at) - _utc(now) > MAX_SKEW


def _given(text: str | None) -> bool:
    return text is not None and text.strip() != ""


def _utc(at: datetime) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("A time must include its UTC offset.")
    return at.astimezone(UTC)


def _time(value: object) -> datetime:
    if isinstance(value, datetime):
        return _utc(value)
    if not isinstance(value, str):
        raise ValueError(f"not a time: {value!r}")
    return _utc(datetime.fromisoformat(value))
