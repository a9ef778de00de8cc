"""Choosing the unit: nearest first (great-circle distance), ties broken by the longest idle.

The order is built as SQL so the database ranks and locks the best free unit in one statement
(`ORDER BY ... LIMIT 1 FOR UPDATE SKIP LOCKED`) instead of sending every candidate to Python on
each dispatch. Building the expression is pure; nothing here touches the database.
"""

from sqlalchemy import ColumnElement, Numeric, cast, func, nulls_last

EARTH_RADIUS_KM = 6371.0088


def great_circle_km(
    lat1: ColumnElement[float],
    lon1: ColumnElement[float],
    lat2: ColumnElement[float],
    lon2: ColumnElement[float],
) -> ColumnElement[float]:
    """Haversine distance in kilometres; NULL when either position is unknown."""
    phi1, phi2 = func.radians(lat1), func.radians(lat2)
    half_d_phi = (phi2 - phi1) / 2
    half_d_lambda = func.radians(lon2 - lon1) / 2
    a = func.power(func.sin(half_d_phi), 2) + func.cos(phi1) * func.cos(phi2) * func.power(
        func.sin(half_d_lambda), 2
    )
    return 2 * EARTH_RADIUS_KM * func.asin(func.least(1.0, func.sqrt(a)))


def nearest_first(
    *,
    incident_lat: ColumnElement[float],
    incident_lon: ColumnElement[float],
    unit_lat: ColumnElement[float],
    unit_lon: ColumnElement[float],
    idle_since: ColumnElement,
    unit_id: ColumnElement[int],
) -> list[ColumnElement]:
    """ORDER BY terms, best first. An unknown position (unit's or incident's) makes the distance
    NULL, which sorts last, so known positions win; among equals (to the metre) the unit idle
    longest goes first, then the lowest id."""
    distance_km = great_circle_km(incident_lat, incident_lon, unit_lat, unit_lon)
    to_the_metre = func.round(cast(distance_km, Numeric), 3)
    return [nulls_last(to_the_metre.asc()), idle_since.asc(), unit_id.asc()]
