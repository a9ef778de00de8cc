"""Idempotency-Key on intake: a retry returns the first result and creates nothing."""

from sqlalchemy import func, select

from app.models import Incident
from tests.factories import incident


async def _count(session) -> int:
    return await session.scalar(select(func.count()).select_from(Incident))


async def test_same_key_same_body_returns_first_result(client, handler, session):
    headers = {**handler, "Idempotency-Key": "form-7f3a"}
    body = incident()
    first = await client.post("/api/v1/incidents", json=body, headers=headers)
    assert first.status_code == 201
    before = await _count(session)
    again = await client.post("/api/v1/incidents", json=body, headers=headers)
    assert again.status_code == 201
    assert again.json() == first.json()
    assert await _count(session) == before


async def test_same_key_reordered_json_is_the_same_request(client, handler):
    headers = {**handler, "Idempotency-Key": "form-order"}
    body = incident()
    first = await client.post("/api/v1/incidents", json=body, headers=headers)
    reordered = dict(reversed(list(body.items())))
    again = await client.post("/api/v1/incidents", json=reordered, headers=headers)
    assert again.json()["id"] == first.json()["id"]


async def test_same_key_other_body_is_409_and_writes_nothing(client, handler, session):
    headers = {**handler, "Idempotency-Key": "form-b"}
    body = incident()
    await client.post("/api/v1/incidents", json=body, headers=headers)
    before = await _count(session)
    other = await client.post(
        "/api/v1/incidents", json={**body, "circumstances": "something else"}, headers=headers
    )
    assert other.status_code == 409
    assert other.json()["error"]["code"] == "idempotency_key_reused"
    assert await _count(session) == before


async def test_keys_are_per_user(client, make_user):
    a, b = await make_user("call_handler"), await make_user("call_handler")
    one = await client.post(
        "/api/v1/incidents", json=incident(), headers={**a, "Idempotency-Key": "k"}
    )
    two = await client.post(
        "/api/v1/incidents", json=incident(), headers={**b, "Idempotency-Key": "k"}
    )
    assert one.json()["id"] != two.json()["id"]


async def test_failed_request_does_not_burn_the_key(client, handler):
    headers = {**handler, "Idempotency-Key": "form-retry-after-fix"}
    bad = await client.post("/api/v1/incidents", json=incident(area="nowhere"), headers=headers)
    assert bad.status_code == 422
    good = await client.post("/api/v1/incidents", json=incident(), headers=headers)
    assert good.status_code == 201


async def test_oversized_key_is_refused(client, handler):
    response = await client.post(
        "/api/v1/incidents", json=incident(), headers={**handler, "Idempotency-Key": "k" * 201}
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_idempotency_key"
