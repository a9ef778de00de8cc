"""The s135/s136 return (Home Office annual data requirement) with the partnership's columns."""

import csv
import io
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from app import s136
from app.clocks import age_band, elapsed_minutes
from app.reports.rcrp import HandoverRow

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
# met, agreed, missed (handed over late, or a goal passed at an earlier place), breached (not
# handed over yet, goal passed), open (not handed over yet, within goal), not_handed_over (an
# outcome or a transfer came first: never met), not_arrived, no_goal (none at that place).
HANDOVER_RESULTS = (
    "met",
    "agreed",
    "missed",
    "breached",
    "open",
    "not_handed_over",
    "not_arrived",
    "no_goal",
)


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
    # The first place of safety (the Home Office return's), whatever transfers followed.
    place_type: str
    place_name: str | None
    police_station_reason: str | None
    authorised_by: str | None
    vehicle: str
    ambulance_requested: bool | None
    police_vehicle_reason: str | None
    arrived_at: datetime | None  # at the first place
    handover_at: datetime | None  # at the place the person is at now
    assessment_at: datetime | None
    ended_at: datetime | None
    outcome: str | None
    extension_hours: int
    review_required: bool
    # The handover clocks, oldest first (one per place after transfers; none where the area
    # sets no goal for the type of place).
    handovers: tuple[HandoverRow, ...] = ()
    # Each place the person was at: (arrival there, type of place), oldest first.
    stays: tuple[tuple[datetime, str], ...] = ()
    transfers: int = 0


def handover_result(row: DetentionRow, now: datetime) -> str:
    if row.arrived_at is None:
        return "not_arrived"
    result = s136.detention_result([h.result(now) for h in row.handovers])
    return "no_goal" if result is None else result


def _handover_minutes(row: DetentionRow) -> int | None:
    """Arrival to handover at the place the handover happened (the last handover clock)."""
    if not row.handovers:
        return None
    last = row.handovers[-1]
    if last.stop_reason != s136.HANDED_OVER or last.stopped_at is None:
        return None
    return elapsed_minutes(last.started_at, last.stopped_at)


def _police_station_hours(row: DetentionRow) -> float | None:
    """Hours held at police stations, from each arrival there to leaving (a transfer) or the
    end of the detention; None while still held at one."""
    stays = list(row.stays) or (
        [(row.arrived_at, row.place_type)] if row.arrived_at is not None else []
    )
    total = timedelta(0)
    for i, (since, place_type) in enumerate(stays):
        if place_type != "police_station":
            continue
        until = stays[i + 1][0] if i + 1 < len(stays) else row.ended_at
        if until is None:
            return None
        total += until - since
    return round(total.total_seconds() / 3600, 2)


def _at_police_station(row: DetentionRow) -> bool:
    return row.place_type == "police_station" or any(t == "police_station" for _, t in row.stays)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def return_line(row: DetentionRow, now: datetime) -> dict[str, Any]:
    """One detention as the return reports it."""
    at_station = _at_police_station(row)
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
        "hours_at_police_station": _police_station_hours(row) if at_station else None,
        "vehicle": row.vehicle,
        "ambulance_requested": row.ambulance_requested if row.vehicle == "police_vehicle" else None,
        "police_vehicle_reason": row.police_vehicle_reason
        if row.vehicle == "police_vehicle"
        else None,
        "arrived_at": _iso(row.arrived_at),
        "handover_at": _iso(row.handover_at),
        "handover_minutes": _handover_minutes(row),
        "handover_goal_minutes": row.handovers[-1].goal_minutes if row.handovers else None,
        "handover_within_goal": handover_result(row, now),
        "assessment_at": _iso(row.assessment_at),
        "discharged_at": _iso(row.ended_at),
        "outcome": row.outcome,
        "extended": row.extension_hours > 0,
        "extension_hours": row.extension_hours,
        "review_required": row.review_required,
        "transfers": row.transfers,
    }


def _count(values: list[str], keys: tuple[str, ...]) -> dict[str, int]:
    counts = Counter(values)
    return {key: counts.get(key, 0) for key in keys} | {
        k: v for k, v in counts.items() if k not in keys
    }


def s136_return(rows: list[DetentionRow], now: datetime) -> dict[str, Any]:
    """The return for these detentions; `now` decides which open handovers have passed
    their goal."""
    ordered = sorted(rows, key=lambda r: (r.detained_at, r.detention_id))
    lines = [return_line(r, now) for r in ordered]
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
            # S4: every police-station use is reviewed; reviews also cover an under-18 at a
            # place that does not take under-18s (S5).
            "police_station_reviews": sum(1 for r in ordered if _at_police_station(r)),
            "reviews_required": sum(1 for x in lines if x["review_required"]),
            "transferred": sum(1 for x in lines if x["transfers"]),
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
    "transfers",
]
