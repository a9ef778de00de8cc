"""Places of safety in the order to offer them for this person (issue 8; S3, S4, S5). Pure.

Suitable places first: with beds before without, nearest first (from the unit's position when
known), police stations last of the suitable ones (S4: only in exceptional circumstances).
Then the places unsuitable for this person (a police station for an under-18, S3; a place that
does not take under-18s, for an under-18), each with its reason: shown, never dropped (S5).

The tablet has the same function (app/static/tablet/s136-rules.js, `rankPlaces`), held to the
same cases (tests/data/s136_rule_cases.json).
"""

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from app.s136.rules import ADULT_AGE

EARTH_RADIUS_KM = 6371.0


@dataclass(frozen=True)
class Reason:
    rule: str
    code: str
    message: str

    def as_json(self) -> dict[str, str]:
        return {"rule": self.rule, "code": self.code, "message": self.message}


@dataclass(frozen=True)
class RankedPlace:
    place: Mapping[str, Any]
    suitable: bool
    reasons: tuple[Reason, ...]
    distance_km: float | None

    def as_json(self) -> dict[str, Any]:
        return {
            "place": dict(self.place),
            "suitable": self.suitable,
            "reasons": [r.as_json() for r in self.reasons],
            "distance_km": self.distance_km,
        }


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in km (the tablet computes it the same way)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def unsuitable_reasons(place: Mapping[str, Any], age: int | None) -> tuple[Reason, ...]:
    """Why a place is not suitable for a person of this age (none when it is)."""
    if age is None or age >= ADULT_AGE:
        return ()
    if place.get("type") == "police_station":
        return (
            Reason(
                "S3",
                "police_station_under_18",
                "A police station may never be used for anyone under 18.",
            ),
        )
    if not place.get("accepts_under_18"):
        return (Reason("S5", "does_not_accept_under_18", "Does not take under-18s."),)
    return ()


def rank_places(
    places: Sequence[Mapping[str, Any]], person: Mapping[str, Any]
) -> list[RankedPlace]:
    """Every place, ordered for this person (`{"age", "lat", "lon"}`; the position is the
    unit's, each may be null)."""
    age, lat, lon = person.get("age"), person.get("lat"), person.get("lon")
    ranked = []
    for place in places:
        reasons = unsuitable_reasons(place, age)
        distance = None
        if None not in (lat, lon, place.get("lat"), place.get("lon")):
            distance = haversine_km(lat, lon, place["lat"], place["lon"])
        ranked.append(RankedPlace(place, not reasons, reasons, distance))
    return sorted(ranked, key=_order)


def _order(r: RankedPlace) -> tuple[Any, ...]:
    nearest = (r.distance_km is None, r.distance_km or 0.0)
    tie = (str(r.place.get("name", "")), r.place.get("id") or 0)
    if not r.suitable:
        return (1, 0, 0, *nearest, *tie)
    police = r.place.get("type") == "police_station"
    no_beds = not (r.place.get("available_beds") or 0) > 0
    return (0, police, no_beds, *nearest, *tie)
