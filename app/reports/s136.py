"""The s135/s136 return (Home Office annual data requirement) with the partnership's columns."""

import csv
import io
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from app.clocks import age_band, elapsed_minutes

PLACE_TYPES = (
    "health_based_place_of_safety",
    "emergency_department",
    "police_station",
    "private_home",
    "other",
    "not_known",
)
VEHICLES = ("ambulance", "police_vehicle", "other_health_vehicle", "other", "none", "not_known")
AGE_BANDS = ("under_18", "18_and_over", "not_known")
HANDOVER_RESULTS = ("met", "agreed", "missed", "open", "not_arrived", "no_goal")


@dataclass(frozen=True)
class DetentionRow:
    detention_id: int
    incident_id: int
    power: str
    detained_at: datetime
    age: int | None
    gender: str
    ethnicity: str
    consulted_who: str | None
    not_consulted_reason: str | None
    place_type: str
    place_name: str | None
    police_station_reason: str | None
    authorised_by: str | None
    vehicle: str
    ambulance_requested: bool | None
    police_vehicle_reason: str | None
    arrived_at: datetime | None
    handover_at: datetime | None
    handover_goal_minutes: int | None  # None: no handover clock for this place
    handover_agreed: bool
    assessment_at: datetime | None
    ended_at: datetime | None
    outcome: str | None
    extension_hours: int
    review_required: bool


def handover_result(row: DetentionRow) -> str:
    if row.arrived_at is None:
        return "not_arrived"
    if row.handover_goal_minutes is None:
        return "no_goal"
    if row.handover_at is None:
        return "open"
    # As the clock counts it: handed over at exactly the goal is within it.
    if row.handover_at - row.arrived_at <= timedelta(minutes=row.handover_goal_minutes):
        return "agreed" if row.handover_agreed else "met"
    return "missed"


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _hours(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return round((end - start).total_seconds() / 3600, 2)


def return_line(row: DetentionRow) -> dict[str, Any]:
    """One detention as the return reports it."""
    at_station = row.place_type == "police_station"
    return {
        "detention_id": row.detention_id,
        "incident_id": row.incident_id,
        "power": row.power,
        "detained_at": _iso(row.detained_at),
        "age": row.age,
        "age_band": age_band(row.age),
        "sex": row.gender,
        "ethnicity": row.ethnicity,
        "consulted_before_detention": row.consulted_who is not None,
        "consulted_who": row.consulted_who,
        "not_consulted_reason": row.not_consulted_reason,
        "place_of_safety_type": row.place_type,
        "place_of_safety": row.place_name,
        "police_station_reason": row.police_station_reason if at_station else None,
        "authorised_by": row.authorised_by if at_station else None,
        "hours_at_police_station": _hours(row.arrived_at, row.ended_at) if at_station else None,
        "vehicle": row.vehicle,
        "ambulance_requested": row.ambulance_requested if row.vehicle == "police_vehicle" else None,
        "police_vehicle_reason": row.police_vehicle_reason
        if row.vehicle == "police_vehicle"
        else None,
        "arrived_at": _iso(row.arrived_at),
        "handover_at": _iso(row.handover_at),
        "handover_minutes": (
            elapsed_minutes(row.arrived_at, row.handover_at)
            if row.arrived_at and row.handover_at
            else None
        ),
        "handover_goal_minutes": row.handover_goal_minutes,
        "handover_within_goal": handover_result(row),
        "assessment_at": _iso(row.assessment_at),
        "discharged_at": _iso(row.ended_at),
        "outcome": row.outcome,
        "extended": row.extension_hours > 0,
        "extension_hours": row.extension_hours,
        "review_required": row.review_required,
    }


def _count(values: list[str], keys: tuple[str, ...]) -> dict[str, int]:
    counts = Counter(values)
    return {key: counts.get(key, 0) for key in keys} | {
        k: v for k, v in counts.items() if k not in keys
    }


def s136_return(rows: list[DetentionRow]) -> dict[str, Any]:
    lines = [return_line(r) for r in sorted(rows, key=lambda r: (r.detained_at, r.detention_id))]
    return {
        "detentions": lines,
        "totals": {
            "detentions": len(lines),
            "by_power": _count([x["power"] for x in lines], ("s136", "s135")),
            "by_place_of_safety_type": _count(
                [x["place_of_safety_type"] for x in lines], PLACE_TYPES
            ),
            "by_vehicle": _count([x["vehicle"] for x in lines], VEHICLES),
            "by_age_band": _count([x["age_band"] for x in lines], AGE_BANDS),
            "by_handover_within_goal": _count(
                [x["handover_within_goal"] for x in lines], HANDOVER_RESULTS
            ),
            "consulted_before_detention": sum(1 for x in lines if x["consulted_before_detention"]),
            "extended": sum(1 for x in lines if x["extended"]),
            "police_station_reviews": sum(1 for x in lines if x["review_required"]),
        },
    }


def s136_return_csv(report: dict[str, Any]) -> str:
    lines = report["detentions"]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for line in lines:
        writer.writerow({k: "" if v is None else v for k, v in line.items()})
    return out.getvalue()


COLUMNS = [
    "detention_id",
    "incident_id",
    "power",
    "detained_at",
    "age",
    "age_band",
    "sex",
    "ethnicity",
    "consulted_before_detention",
    "consulted_who",
    "not_consulted_reason",
    "place_of_safety_type",
    "place_of_safety",
    "police_station_reason",
    "authorised_by",
    "hours_at_police_station",
    "vehicle",
    "ambulance_requested",
    "police_vehicle_reason",
    "arrived_at",
    "handover_at",
    "handover_minutes",
    "handover_goal_minutes",
    "handover_within_goal",
    "assessment_at",
    "discharged_at",
    "outcome",
    "extended",
    "extension_hours",
    "review_required",
]
