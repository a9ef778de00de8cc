"""A small area for access tests: two triage cars and the nurse desk, a place of safety, and
the requests that put incidents, jobs and detentions on them (all through the HTTP API)."""

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from tests.factories import incident

CARS = {"TC1": (52.95, -1.15), "TC2": (52.90, -1.10)}
# An officer on scene asks the nurse desk for advice (routes to nurse_advice).
ADVICE_CALL: dict[str, Any] = {
    "source": "officer_on_scene",
    "circumstances": "PC 1234 with a woman on the bridge parapet; asks about s136.",
    "caller": {"name": "PC Ahmed", "role": "PC 1234", "phone": "07700 900123"},
    "risk.immediate_risk_to_life": False,
    "risk.suicidal": False,
}


def ago(minutes: float) -> str:
    return (datetime.now(UTC) - timedelta(minutes=minutes)).isoformat()


async def add_unit(
    client: httpx.AsyncClient, supervisor: dict[str, str], callsign: str, kind: str = "triage_car"
) -> None:
    lat, lon = CARS.get(callsign, (None, None))
    body = {"callsign": callsign, "kind": kind, "status": "available", "lat": lat, "lon": lon}
    response = await client.post("/api/v1/units", json=body, headers=supervisor)
    assert response.status_code == 201, response.text


async def add_place(client: httpx.AsyncClient, supervisor: dict[str, str]) -> int:
    response = await client.post(
        "/api/v1/places-of-safety",
        json={
            "name": "Highbury s136 suite",
            "type": "health_based_place_of_safety",
            "available_beds": 2,
            "accepts_under_18": True,
        },
        headers=supervisor,
    )
    assert response.status_code == 201, response.text
    return response.json()["id"]


async def new_incident(
    client: httpx.AsyncClient, headers: dict[str, str], **changes: Any
) -> dict[str, Any]:
    response = await client.post("/api/v1/incidents", json=incident(**changes), headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def offer_to(created: dict[str, Any], callsign: str) -> int:
    return next(a["id"] for a in created["assignments"] if a["unit"] == callsign)


async def act(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    assignment_id: int,
    action: str,
    body: dict[str, Any] | None = None,
    expected: int = 200,
) -> dict[str, Any]:
    response = await client.post(
        f"/api/v1/assignments/{assignment_id}/{action}", json=body, headers=headers
    )
    assert response.status_code == expected, response.text
    return response.json()


def detention(place_id: int | None, **changes: Any) -> dict[str, Any]:
    body = {
        "power": "s136",
        "detained_at": ago(90),
        "consulted": {"who": "mh_nurse", "at": ago(95)},
        "place_of_safety_id": place_id,
        "vehicle": "ambulance",
        "person": {"age": 34, "gender": "female", "ethnicity": "white"},
    }
    return body | changes


async def detain(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    incident_id: int,
    place_id: int | None,
    *,
    arrived: bool = False,
) -> dict[str, Any]:
    response = await client.post(
        f"/api/v1/incidents/{incident_id}/s136", json=detention(place_id), headers=headers
    )
    assert response.status_code == 201, response.text
    if arrived:
        response = await client.post(
            f"/api/v1/incidents/{incident_id}/s136/arrived",
            json={"at": ago(30)},
            headers=headers,
        )
        assert response.status_code == 200, response.text
    return response.json()
