"""Sign-in, tokens, and the role matrix: for each endpoint, allowed roles work, others get 403,
no token gets 401."""

from datetime import timedelta

import pytest

from app.auth.throttle import SignInThrottle
from app.auth.tokens import issue_token
from app.services.users import upsert_user
from tests.conftest import TEST_SECRET
from tests.factories import incident

ROLES = ("call_handler", "crew", "nurse", "supervisor", "admin")


async def _incident_id(client, make_user) -> int:
    creator = await make_user("supervisor")
    return (await client.post("/api/v1/incidents", json=incident(), headers=creator)).json()["id"]


# (method, path template, body, allowed roles, expected success status)
ENDPOINTS = [
    ("POST", "/api/v1/incidents", incident(), {"call_handler", "supervisor"}, 201),
    ("GET", "/api/v1/incidents", None, {"call_handler", "supervisor"}, 200),
    # A crew or nurse may read an incident only once their unit has taken it: 404 otherwise.
    (
        "GET",
        "/api/v1/incidents/{id}",
        None,
        {"call_handler": 200, "supervisor": 200, "crew": 404, "nurse": 404},
        200,
    ),
    (
        "POST",
        "/api/v1/incidents/{id}/override",
        {"outcome": "triage_car", "reason": "r"},
        {"call_handler", "supervisor"},
        200,
    ),
    ("POST", "/api/v1/triage/preview", incident(), {"call_handler", "supervisor"}, 200),
    ("GET", "/api/v1/areas", None, {"admin", "supervisor"}, 200),
    ("POST", "/api/v1/areas", {"code": "area-{role}", "name": "x"}, {"admin"}, 201),
    ("PATCH", "/api/v1/areas/default", {"ack_timeout_seconds": 90}, {"admin"}, 200),
]


@pytest.mark.parametrize(
    ("method", "path", "body", "allowed", "success"),
    ENDPOINTS,
    ids=[f"{m} {p}" for m, p, *_ in ENDPOINTS],
)
async def test_role_matrix(client, make_user, method, path, body, allowed, success):
    incident_id = await _incident_id(client, make_user)
    url = path.format(id=incident_id)
    no_token = await client.request(method, url, json=body)
    assert no_token.status_code == 401
    assert no_token.json()["error"]["code"] == "unauthenticated"
    for role in ROLES:
        headers = await make_user(role, unit="TC1" if role == "crew" else None)
        payload = body
        if isinstance(body, dict) and "code" in body:
            payload = {**body, "code": body["code"].format(role=role.replace("_", "-"))}
        response = await client.request(method, url, json=payload, headers=headers)
        if isinstance(allowed, dict):
            expected = allowed.get(role, 403)
        else:
            expected = success if role in allowed else 403
        assert response.status_code == expected, (role, response.text)
        if expected == 403:
            assert response.json()["error"]["code"] == "forbidden"


async def test_sign_in_and_use_token(client, session):
    await upsert_user("ann", "correct horse battery", session=session, role="call_handler")
    await session.commit()
    response = await client.post(
        "/api/v1/auth/token", data={"username": "ann", "password": "correct horse battery"}
    )
    assert response.status_code == 200
    token = response.json()
    assert token["token_type"] == "bearer" and token["role"] == "call_handler"
    assert token["expires_in"] > 0
    listed = await client.get(
        "/api/v1/incidents", headers={"Authorization": f"Bearer {token['access_token']}"}
    )
    assert listed.status_code == 200


async def test_wrong_password_and_unknown_user(client, session):
    await upsert_user("bob", "correct horse battery", session=session, role="supervisor")
    await session.commit()
    for username, password in (("bob", "wrong"), ("nobody", "whatever")):
        response = await client.post(
            "/api/v1/auth/token", data={"username": username, "password": password}
        )
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "invalid_credentials"
    missing = await client.post("/api/v1/auth/token", data={"username": "bob"})
    assert missing.status_code == 422


async def test_repeated_wrong_passwords_are_throttled(client, session):
    await upsert_user("dee", "correct horse battery", session=session, role="supervisor")
    await session.commit()
    for _ in range(10):
        wrong = await client.post("/api/v1/auth/token", data={"username": "dee", "password": "x"})
        assert wrong.status_code == 401
    right = {"username": "dee", "password": "correct horse battery"}
    refused = await client.post("/api/v1/auth/token", data=right)
    assert refused.status_code == 429  # even the right password, until the window passes
    assert refused.json()["error"]["code"] == "too_many_attempts"
    assert 0 < int(refused.headers["Retry-After"]) <= 15 * 60
    await upsert_user("eve", "correct horse battery", session=session, role="supervisor")
    await session.commit()
    other = {"username": "eve", "password": "correct horse battery"}
    assert (await client.post("/api/v1/auth/token", data=other)).status_code == 200


def test_throttle_window_and_reset():
    now = [0.0]
    throttle = SignInThrottle(
        per_username=3, per_address=5, window_seconds=60, clock=lambda: now[0]
    )
    for second in range(3):
        now[0] = float(second)
        assert throttle.retry_after("ann", "10.0.0.1") is None
        throttle.failed("ann", "10.0.0.1")
    assert throttle.retry_after("ann", "10.0.0.1") == 58.0  # the first failure leaves at 60
    now[0] = 60.0
    assert throttle.retry_after("ann", "10.0.0.1") is None
    for other in ("bob", "cat", "eve"):  # with ann's at 1 s and 2 s: 5 from one address
        throttle.failed(other, "10.0.0.1")
    assert throttle.retry_after("dan", "10.0.0.1") is not None
    assert throttle.retry_after("dan", "10.0.0.2") is None
    throttle.succeeded("ann")
    assert throttle.retry_after("ann", "10.0.0.9") is None


async def test_expired_forged_and_inactive_tokens(client, session):
    user = await upsert_user("cat", "correct horse battery", session=session, role="supervisor")
    await session.commit()
    expired = issue_token(
        user_id=user.id, role="supervisor", secret=TEST_SECRET, ttl=timedelta(seconds=-1)
    )
    forged = issue_token(
        user_id=user.id,
        role="supervisor",
        secret="not-the-secret-but-long-enough-for-hs256-0123",
        ttl=timedelta(hours=1),
    )
    for token in (expired, forged, "not.a.jwt"):
        response = await client.get(
            "/api/v1/incidents", headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 401
    valid = issue_token(
        user_id=user.id, role="supervisor", secret=TEST_SECRET, ttl=timedelta(hours=1)
    )
    user.active = False
    await session.commit()
    response = await client.get("/api/v1/incidents", headers={"Authorization": f"Bearer {valid}"})
    assert response.status_code == 401


async def test_role_comes_from_the_database_not_the_token(client, session):
    user = await upsert_user("dan", "correct horse battery", session=session, role="admin")
    await session.commit()
    claims_supervisor = issue_token(
        user_id=user.id, role="supervisor", secret=TEST_SECRET, ttl=timedelta(hours=1)
    )
    response = await client.get(
        "/api/v1/incidents", headers={"Authorization": f"Bearer {claims_supervisor}"}
    )
    assert response.status_code == 403


async def test_crew_account_needs_a_unit(session):
    with pytest.raises(ValueError, match="unit"):
        await upsert_user("eve", "correct horse battery", session=session, role="crew")
