"""Bad input gets a 4xx in the contract's error shape, naming the field, and writes nothing."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.models import AuditEntry, Incident
from tests.factories import incident


def assert_error_shape(body: dict) -> None:
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert isinstance(body["error"]["code"], str) and body["error"]["message"]


CASES = [
    ("wrong type: age as text", incident(**{"person.age": "34"}), "person.age"),
    ("wrong type: flag as text", incident(**{"risk.weapon": "yes"}), "risk.weapon"),
    ("wrong type: flag as number", incident(**{"risk.weapon": 1}), "risk.weapon"),
    ("unknown source", incident(source="carrier_pigeon"), "source"),
    ("unknown category", incident(category="noise"), "category"),
    ("unknown location kind", incident(**{"location.kind": "boat"}), "location.kind"),
    ("unknown gender", incident(**{"person.gender": "unknown"}), "person.gender"),
    ("missing source", incident(source=...), "source"),
    ("missing category", incident(category=...), "category"),
    ("missing location", incident(location=...), "location"),
    ("missing location kind", incident(**{"location.kind": ...}), "location.kind"),
    (
        "empty location description",
        incident(**{"location.description": " "}),
        "location.description",
    ),
    ("age below 0", incident(**{"person.age": -1}), "person.age"),
    ("age above 120", incident(**{"person.age": 121}), "person.age"),
    ("latitude out of range", incident(**{"location.lat": 91}), "location.lat"),
    ("latitude as text", incident(**{"location.lat": "abc"}), "location.lat"),
    (
        "misspelt risk flag",
        incident(**{"risk.immediate_risk_to_lfe": True}),
        "risk.immediate_risk_to_lfe",
    ),
    ("unknown top-level field", incident(priority=1), "priority"),
    ("time without offset", incident(reported_at="2026-11-22T14:02:00"), "reported_at"),
    ("not a time", incident(reported_at="yesterday"), "reported_at"),
    ("unknown area", incident(area="atlantis"), "area"),
]


@pytest.mark.parametrize(("label", "body", "field"), CASES, ids=[c[0] for c in CASES])
async def test_bad_field_is_named_and_nothing_written(client, handler, session, label, body, field):
    before = await session.scalar(select(func.count()).select_from(Incident))
    response = await client.post("/api/v1/incidents", json=body, headers=handler)
    assert response.status_code == 422, response.text
    assert_error_shape(response.json())
    fields = [d["field"] for d in response.json()["error"]["details"]]
    assert field in fields
    assert len(fields) == len(set(fields)), "one entry per field"
    assert await session.scalar(select(func.count()).select_from(Incident)) == before
    preview = await client.post("/api/v1/triage/preview", json=body, headers=handler)
    assert preview.status_code == 422


async def test_future_time_beyond_skew_is_refused(client, handler):
    soon = (datetime.now(UTC) + timedelta(seconds=60)).isoformat()
    later = (datetime.now(UTC) + timedelta(minutes=5)).isoformat()
    assert (
        await client.post("/api/v1/incidents", json=incident(reported_at=soon), headers=handler)
    ).status_code == 201
    response = await client.post(
        "/api/v1/incidents", json=incident(reported_at=later), headers=handler
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "time_in_future"
    assert response.json()["error"]["details"][0]["field"] == "reported_at"


async def test_other_offsets_are_accepted_and_returned_in_utc(client, handler):
    body = incident(reported_at="2026-07-01T15:02:00+01:00")
    response = await client.post("/api/v1/incidents", json=body, headers=handler)
    assert response.json()["reported_at"] == "2026-07-01T14:02:00+00:00"


async def test_malformed_json_is_400(client, handler):
    response = await client.post(
        "/api/v1/incidents",
        content=b'{"source": "police_999",',
        headers={**handler, "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert_error_shape(response.json())
    assert response.json()["error"]["code"] == "malformed_json"


async def test_body_that_is_not_an_object(client, handler):
    response = await client.post("/api/v1/incidents", json=[1, 2], headers=handler)
    assert response.status_code == 422
    assert_error_shape(response.json())


async def test_oversized_body_is_413(client, handler, session):
    before = await session.scalar(select(func.count()).select_from(AuditEntry))
    body = incident(circumstances="x" * (70 * 1024))
    response = await client.post("/api/v1/incidents", json=body, headers=handler)
    assert response.status_code == 413
    assert_error_shape(response.json())
    assert response.json()["error"]["code"] == "body_too_large"
    assert await session.scalar(select(func.count()).select_from(AuditEntry)) == before


async def test_oversized_chunked_body_is_413(client, handler):
    async def chunks():
        for _ in range(80):
            yield b"x" * 1024

    response = await client.post(
        "/api/v1/incidents",
        content=chunks(),
        headers={**handler, "Content-Type": "application/json"},
    )
    assert response.status_code == 413


async def test_unknown_path_and_method_use_error_shape(client, handler):
    missing = await client.get("/api/v1/nothing-here", headers=handler)
    assert missing.status_code == 404
    assert_error_shape(missing.json())
    wrong = await client.put("/api/v1/incidents", headers=handler)
    assert wrong.status_code == 405
    assert_error_shape(wrong.json())
