"""Choosing the unit: nearest first (great-circle distance), ties broken by the longest idle."""

import math
from dataclasses import dataclass
from datetime import datetime

EARTH_RADIUS_KM = 6371.0088


@dataclass(frozen=True, slots=True)
class Candidate:
    unit_id: int
    lat: float | None
    lon: float | None
    idle_since: datetime


def great_circle_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Haversine distance in kilometres."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    d_phi = phi2 - phi1
    d_lambda = math.radians(lon2 - lon1)
    a = math.sin(d_phi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def rank(candidates: list[Candidate], lat: float | None, lon: float | None) -> list[Candidate]:
    """Best first. A unit or incident without a position counts as infinitely far, so known
    positions win; among equals the unit idle longest goes first, then the lowest id."""

    def key(c: Candidate) -> tuple[float, datetime, int]:
        if lat is None or lon is None or c.lat is None or c.lon is None:
            distance = math.inf
        else:
            distance = round(great_circle_km(lat, lon, c.lat, c.lon), 3)  # metre ties are ties
        return (distance, c.idle_since, c.unit_id)

    return sorted(candidates, key=key)
