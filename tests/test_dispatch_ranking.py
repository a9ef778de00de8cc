"""Which car an incident is offered to: nearest by great-circle distance, then longest idle,
then lowest id; cars without a position last. Checked against an independent haversine."""

import math
import random
from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from app.models import Unit
from tests.factories import incident


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    a = (
        math.sin((phi2 - phi1) / 2) ** 2
        + math.cos(phi1) * math.cos(phi2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371.0088 * math.asin(min(1.0, math.sqrt(a)))


async def add_car(
    client, supervisor, connect, callsign: str, lat: float | None, lon: float | None
) -> None:
    """A free car with its crew signed in."""
    body = {"callsign": callsign, "kind": "triage_car", "status": "available"}
    if lat is not None:
        body |= {"lat": lat, "lon": lon}
    r = await client.post("/api/v1/units", json=body, headers=supervisor)
    assert r.status_code == 201, r.text
    await connect(callsign)


async def offered_to(client, handler, **location) -> str | None:
    changes = {f"location.{k}": v for k, v in location.items()}
    r = await client.post("/api/v1/incidents", json=incident(**changes), headers=handler)
    assert r.status_code == 201, r.text
    offers = [a["unit"] for a in r.json()["assignments"] if a["status"] == "offered"]
    return offers[0] if offers else None


async def test_each_incident_takes_the_nearest_free_car(client, supervisor, handler, connect):
    rng = random.Random(136)
    cars = {
        f"R{i}": (52.9 + rng.uniform(-0.3, 0.3), -1.15 + rng.uniform(-0.4, 0.4)) for i in range(12)
    }
    for callsign, (lat, lon) in cars.items():
        await add_car(client, supervisor, connect, callsign, lat, lon)
    free = dict(cars)
    for _ in range(len(cars)):
        lat, lon = 52.9 + rng.uniform(-0.3, 0.3), -1.15 + rng.uniform(-0.4, 0.4)
        expected = min(free, key=lambda c: haversine_km(lat, lon, *free[c]))
        assert await offered_to(client, handler, lat=lat, lon=lon) == expected
        del free[expected]  # offered: busy until it answers
    assert await offered_to(client, handler) is None


async def test_ties_go_to_the_longest_idle_and_unplaced_cars_go_last(
    client, supervisor, handler, session, connect
):
    await add_car(client, supervisor, connect, "NOWHERE", None, None)
    for callsign in ("SAME1", "SAME2", "FAR"):
        lat = 53.5 if callsign == "FAR" else 52.94
        await add_car(client, supervisor, connect, callsign, lat, -1.14)
    now = datetime.now(UTC)
    idle = {"NOWHERE": 60, "SAME1": 5, "SAME2": 30, "FAR": 90}  # minutes idle
    for callsign, minutes in idle.items():
        await session.execute(
            update(Unit)
            .where(Unit.callsign == callsign)
            .values(status_since=now - timedelta(minutes=minutes))
        )
    order = [await offered_to(client, handler) for _ in range(4)]
    assert order == ["SAME2", "SAME1", "FAR", "NOWHERE"]


async def test_without_a_position_the_longest_idle_car_is_offered(
    client, supervisor, handler, session, connect
):
    for callsign in ("A1", "A2"):
        await add_car(client, supervisor, connect, callsign, 52.94, -1.14)
    await session.execute(
        update(Unit)
        .where(Unit.callsign == "A2")
        .values(status_since=datetime.now(UTC) - timedelta(hours=1))
    )
    assert await offered_to(client, handler, lat=..., lon=...) == "A2"


async def test_override_offers_only_what_the_incident_does_not_already_hold(
    client, supervisor, handler, connect
):
    for callsign in ("H1", "H2"):
        await add_car(client, supervisor, connect, callsign, 52.94, -1.14)
    created = (await client.post("/api/v1/incidents", json=incident(), headers=handler)).json()
    assert [a["unit"] for a in created["assignments"]] == ["H1"]
    overridden = await client.post(
        f"/api/v1/incidents/{created['id']}/override",
        json={"outcome": "triage_car", "reason": "Caller says the weapon is gone."},
        headers=handler,
    )
    assert overridden.status_code == 200, overridden.text
    # still needs a triage car, and already has one on offer: H2 stays free
    assert [a["unit"] for a in overridden.json()["assignments"]] == ["H1"]
    assert await offered_to(client, handler) == "H2"
