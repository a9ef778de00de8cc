"""Sign-in, sessions and tokens, and the role matrix: for each endpoint, allowed roles work,
others get 403, no token gets 401."""

import hashlib
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import httpx
import jwt
import pytest
from sqlalchemy import select, text

from app.auth.throttle import SignInThrottle, delay_after
from app.auth.tokens import issue_token
from app.config import Settings
from app.main import create_app
from app.models import AuditEntry, UserSession, WsTicket
from app.services import user_sessions
from tests.accounts import make_account
from tests.conftest import TEST_PASSWORD, TEST_SECRET
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


# ---------------------------------------------------------------- signing in


async def sign_in(client, username: str, password: str = TEST_PASSWORD, **headers: str):
    return await client.post(
        "/api/v1/auth/token", data={"username": username, "password": password}, headers=headers
    )


async def signed_in(client, session, username: str, role: str = "supervisor") -> dict[str, str]:
    """An account, signed in through the API; returns its Authorization header."""
    await make_account(session, username, role, password=TEST_PASSWORD)
    await session.commit()
    response = await sign_in(client, username)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def session_id_of(headers: dict[str, str]) -> str:
    token = headers["Authorization"].removeprefix("Bearer ")
    return jwt.decode(token, options={"verify_signature": False})["sid"]


async def test_sign_in_opens_a_session_named_by_the_token(client, session):
    user = await make_account(session, "ann", "call_handler", password=TEST_PASSWORD)
    await session.commit()
    response = await sign_in(client, "ann")
    assert response.status_code == 200
    token = response.json()
    assert token["token_type"] == "bearer" and token["role"] == "call_handler"
    assert token["expires_in"] == 12 * 60 * 60 and token["idle_timeout"] == 60 * 60
    claims = jwt.decode(token["access_token"], TEST_SECRET, algorithms=["HS256"])
    stored = await session.get(UserSession, claims["sid"])
    assert stored is not None and stored.user_id == user.id and stored.revoked_at is None
    assert abs(stored.expires_at.timestamp() - claims["exp"]) < 1  # the token ends with it
    listed = await client.get(
        "/api/v1/incidents", headers={"Authorization": f"Bearer {token['access_token']}"}
    )
    assert listed.status_code == 200


async def test_wrong_password_and_unknown_user(client, session):
    await make_account(session, "bob", "supervisor", password=TEST_PASSWORD)
    await session.commit()
    for username, password in (("bob", "wrong"), ("nobody", "whatever")):
        response = await sign_in(client, username, password)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "invalid_credentials"
    missing = await client.post("/api/v1/auth/token", data={"username": "bob"})
    assert missing.status_code == 422


async def test_a_disabled_account_cannot_sign_in(client, session):
    user = await make_account(session, "cal", "supervisor", password=TEST_PASSWORD)
    user.active = False
    await session.commit()
    response = await sign_in(client, "cal")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_credentials"  # same as a wrong password


async def test_over_long_usernames_are_refused_before_anything_else(client, app, session):
    throttle = app.state.sign_in_throttle
    await make_account(session, "u" * 80, "supervisor", password=TEST_PASSWORD)
    await session.commit()
    for username in ("x" * 81, "y" * 60_000):
        response = await sign_in(client, username, "whatever")
        assert response.status_code == 422, len(username)
        assert response.json()["error"]["details"][0]["field"] == "username"
        assert username not in response.text
    assert len(throttle) == 0  # neither was counted, so neither is kept
    assert (await sign_in(client, "u" * 80)).status_code == 200
    assert (await session.scalar(select(AuditEntry).where(AuditEntry.client_ip.is_(None)))) is None


# ---------------------------------------------------------------- throttling


def test_throttle_delays_double_then_stop_growing():
    delays = [delay_after(n, free=3, first=1.0, cap=60.0) for n in range(12)]
    assert delays == [0, 0, 0, 1, 2, 4, 8, 16, 32, 60, 60, 60]


def test_throttle_by_username_and_by_address_and_forgets():
    now = [0.0]
    throttle = SignInThrottle(
        free_per_username=2, free_per_address=4, forget_after=600, clock=lambda: now[0]
    )
    for _ in range(2):
        assert throttle.retry_after("ann", "10.0.0.1") is None
        throttle.failed("ann", "10.0.0.1")
    assert throttle.retry_after("ann", "10.0.0.1") == 1.0
    assert throttle.retry_after("ann", "10.0.0.2") == 1.0  # the username, from anywhere
    assert throttle.retry_after("bob", "10.0.0.1") is None  # the address is not there yet
    for other in ("bob", "cat"):
        throttle.failed(other, "10.0.0.1")
    assert throttle.retry_after("dan", "10.0.0.1") == 1.0  # four from one address
    assert throttle.retry_after("dan", "10.0.0.3") is None
    throttle.succeeded("ann", "10.0.0.1")
    assert throttle.retry_after("ann", "10.0.0.9") is None
    assert throttle.retry_after("dan", "10.0.0.1") is None  # the success's own attempt undone
    now[0] = 600.0
    assert throttle.retry_after("bob", "10.0.0.1") is None and len(throttle) <= 2


def test_throttle_keeps_a_bounded_number_of_keys():
    throttle = SignInThrottle(max_keys=100, clock=lambda: 0.0)
    for n in range(1000):
        throttle.failed(f"user-{n}", "10.0.0.1")
    assert len(throttle) == 100
    assert throttle.retry_after("user-999", "10.0.0.2") is None  # one failure: free


async def test_failed_sign_ins_wait_longer_each_time_then_the_right_password_gets_in(
    app, client, session
):
    now = [1000.0]
    app.state.sign_in_throttle = SignInThrottle(clock=lambda: now[0])
    await make_account(session, "dee", "supervisor", password=TEST_PASSWORD)
    await session.commit()
    for _ in range(3):  # free: typos cost nothing
        assert (await sign_in(client, "dee", "wrong")).status_code == 401
    waits = []
    for _ in range(6):
        refused = await sign_in(client, "dee", TEST_PASSWORD)
        assert refused.status_code == 429  # not even checked while waiting
        assert refused.json()["error"]["code"] == "too_many_attempts"
        waits.append(int(refused.headers["Retry-After"]))
        now[0] += waits[-1]
        assert (await sign_in(client, "dee", "wrong")).status_code == 401
    assert waits == [1, 2, 4, 8, 16, 32]
    for _ in range(3):  # capped: the real user is never shut out for longer than a minute
        refused = await sign_in(client, "dee", TEST_PASSWORD)
        assert int(refused.headers["Retry-After"]) == 60
        now[0] += 60
        assert (await sign_in(client, "dee", "wrong")).status_code == 401
    now[0] += 60
    assert (await sign_in(client, "dee", TEST_PASSWORD)).status_code == 200
    # The username's count starts afresh (its address keeps its own, which a success does not
    # clear: an attacker could sign in to an account of their own between guesses).
    assert app.state.sign_in_throttle.retry_after("dee", "192.0.2.1") is None
    await make_account(session, "eve", "supervisor", password=TEST_PASSWORD)
    await session.commit()
    elsewhere = httpx.ASGITransport(app=app, client=("192.0.2.7", 50000))
    async with httpx.AsyncClient(transport=elsewhere, base_url="http://test") as other:
        assert (await sign_in(other, "eve")).status_code == 200  # others were never held up


# ---------------------------------------------------------------- audit of signing in and out


async def test_sign_in_success_failure_and_sign_out_are_audited(client, session):
    user = await make_account(session, "gil", "supervisor", password=TEST_PASSWORD)
    await session.commit()
    assert (await sign_in(client, "gil", "not-gils-password")).status_code == 401
    typed = "Tr0ub4dor&3-not-a-username"
    assert (await sign_in(client, typed, "hunter2-password")).status_code == 401
    ok = await sign_in(client, "gil")
    token = ok.json()["access_token"]
    bearer = {"Authorization": f"Bearer {token}"}
    assert (await client.post("/api/v1/auth/logout", headers=bearer)).status_code == 204
    rows = (
        await session.scalars(
            select(AuditEntry).where(AuditEntry.action.like("auth.%")).order_by(AuditEntry.id)
        )
    ).all()
    mine = [r for r in rows if r.actor_id in (user.id, None)]
    assert [(r.action, r.outcome) for r in mine] == [
        ("auth.sign_in_failed", "denied"),
        ("auth.sign_in_failed", "denied"),
        ("auth.sign_in", "allowed"),
        ("auth.sign_out", "allowed"),
    ]
    wrong, unknown, signed, signed_out = mine
    assert (wrong.actor_id, wrong.actor_username, wrong.detail) == (
        user.id,
        "gil",
        {"reason": "wrong_password"},
    )
    # Not an account: what was typed is not kept (it may be a password in the wrong box).
    assert unknown.actor_id is None and unknown.detail == {"reason": "no_such_account"}
    for row in mine:
        kept = " ".join(str(v) for v in vars(row).values())
        assert typed not in kept and "hunter2" not in kept and "not-gils" not in kept
        assert row.client_ip == "127.0.0.1" and row.request_id
    sid = jwt.decode(token, options={"verify_signature": False})["sid"]
    assert signed.session_id == sid and signed_out.session_id == sid
    assert wrong.session_id is None


# ---------------------------------------------------------------- sessions


async def test_sign_out_ends_the_session_and_only_that_one(client, session):
    first = await signed_in(client, session, "hal")
    second_answer = await sign_in(client, "hal")
    second = {"Authorization": f"Bearer {second_answer.json()['access_token']}"}
    assert (await client.post("/api/v1/auth/logout", headers=first)).status_code == 204
    refused = await client.get("/api/v1/areas", headers=first)
    assert refused.status_code == 401 and "signed out" in refused.json()["error"]["message"]
    assert (await client.get("/api/v1/areas", headers=second)).status_code == 200
    # Signing out again is harmless; a token this service did not sign is refused.
    assert (await client.post("/api/v1/auth/logout", headers=first)).status_code == 204
    forged = issue_token(
        user_id=1,
        session_id=uuid4(),
        expires_at=datetime.now(UTC) + timedelta(hours=1),
        secret="another-secret-0123456789-0123456789",
    )
    bad = await client.post("/api/v1/auth/logout", headers={"Authorization": f"Bearer {forged}"})
    assert bad.status_code == 401
    assert (await client.post("/api/v1/auth/logout")).status_code == 401


async def set_session(session, headers, **sql_values: str) -> None:
    """Move a session's times, e.g. last_seen_at="now() - interval '61 minutes'"."""
    assignments = ", ".join(f"{column} = {value}" for column, value in sql_values.items())
    await session.execute(
        text(f"UPDATE sessions SET {assignments} WHERE id = :id"),
        {"id": session_id_of(headers)},
    )
    await session.commit()


async def last_seen_ago(session, headers) -> float:
    value = await session.scalar(
        text("SELECT extract(epoch FROM now() - last_seen_at) FROM sessions WHERE id = :id"),
        {"id": session_id_of(headers)},
    )
    return float(value)


async def test_a_session_unused_for_the_idle_limit_ends(client, session):
    headers = await signed_in(client, session, "ida")
    await set_session(session, headers, last_seen_at="now() - interval '59 minutes'")
    assert (await client.get("/api/v1/areas", headers=headers)).status_code == 200
    assert await last_seen_ago(session, headers) < 60  # used: its idle clock starts again
    await set_session(session, headers, last_seen_at="now() - interval '61 minutes'")
    refused = await client.get("/api/v1/areas", headers=headers)
    assert refused.status_code == 401
    assert "60 minutes without use" in refused.json()["error"]["message"]


async def test_use_renews_the_idle_clock_at_most_once_a_minute(client, session):
    headers = await signed_in(client, session, "ivy")
    await set_session(session, headers, last_seen_at="now() - interval '30 seconds'")
    await client.get("/api/v1/areas", headers=headers)
    assert await last_seen_ago(session, headers) >= 30  # not written again so soon
    await set_session(session, headers, last_seen_at="now() - interval '90 seconds'")
    await client.get("/api/v1/areas", headers=headers)
    assert await last_seen_ago(session, headers) < 30


async def test_a_session_ends_at_its_shift_long_limit_whatever_the_token_says(client, session):
    headers = await signed_in(client, session, "jay")
    await set_session(session, headers, expires_at="now() - interval '1 second'")
    refused = await client.get("/api/v1/areas", headers=headers)
    assert refused.status_code == 401
    assert "shift-long limit" in refused.json()["error"]["message"]


async def test_expired_forged_sessionless_and_inactive_tokens(client, session):
    user = await make_account(session, "cat", "supervisor", password=TEST_PASSWORD)
    await session.commit()
    opened = await user_sessions.open_session(
        user.id,
        session=session,
        now=datetime.now(UTC),
        ttl=timedelta(hours=1),
        client_ip=None,
    )
    await session.commit()
    expired = issue_token(
        user_id=user.id,
        session_id=opened.id,
        expires_at=datetime.now(UTC) - timedelta(seconds=1),
        secret=TEST_SECRET,
    )
    forged = issue_token(
        user_id=user.id,
        session_id=opened.id,
        expires_at=opened.expires_at,
        secret="not-the-secret-but-long-enough-for-hs256-0123",
    )
    unknown_session = issue_token(
        user_id=user.id, session_id=uuid4(), expires_at=opened.expires_at, secret=TEST_SECRET
    )
    other_users_session = issue_token(
        user_id=user.id + 1, session_id=opened.id, expires_at=opened.expires_at, secret=TEST_SECRET
    )
    # A token from before server-side sessions: signed with the key, but naming no session.
    sessionless = jwt.encode(
        {"sub": str(user.id), "exp": opened.expires_at}, TEST_SECRET, algorithm="HS256"
    )
    for token in (expired, forged, unknown_session, other_users_session, sessionless, "not.a.jwt"):
        response = await client.get(
            "/api/v1/incidents", headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 401, token
    valid = issue_token(
        user_id=user.id, session_id=opened.id, expires_at=opened.expires_at, secret=TEST_SECRET
    )
    headers = {"Authorization": f"Bearer {valid}"}
    assert (await client.get("/api/v1/incidents", headers=headers)).status_code == 200
    user.active = False
    await session.commit()
    assert (await client.get("/api/v1/incidents", headers=headers)).status_code == 401


async def test_role_comes_from_the_database_not_the_token(client, session):
    headers = await signed_in(client, session, "dan", role="admin")
    assert (await client.get("/api/v1/areas", headers=headers)).status_code == 200
    await session.execute(text("UPDATE users SET role = 'call_handler' WHERE username = 'dan'"))
    await session.commit()
    assert (await client.get("/api/v1/areas", headers=headers)).status_code == 403


# ---------------------------------------------------------------- websocket tickets


async def test_a_ws_ticket_is_short_lived_and_stored_only_as_a_hash(client, session):
    headers = await signed_in(client, session, "kim")
    response = await client.post("/api/v1/auth/ws-ticket", headers=headers)
    assert response.status_code == 200
    answer = response.json()
    assert answer["expires_in"] == 30 and len(answer["ticket"]) >= 40
    stored = (await session.scalars(select(WsTicket))).all()
    assert len(stored) == 1
    assert stored[0].ticket_hash == hashlib.sha256(answer["ticket"].encode()).hexdigest()
    assert str(stored[0].session_id) == session_id_of(headers)
    assert 25 <= (stored[0].expires_at - datetime.now(UTC)).total_seconds() <= 30
    assert (await client.post("/api/v1/auth/ws-ticket")).status_code == 401


async def test_expired_tickets_and_long_ended_sessions_are_purged(session):
    user = await make_account(session, "lee", "supervisor", password=TEST_PASSWORD)
    now = datetime.now(UTC)
    old = await user_sessions.open_session(
        user.id,
        session=session,
        now=now - timedelta(days=9),
        ttl=timedelta(hours=12),
        client_ip=None,
    )
    current = await user_sessions.open_session(
        user.id, session=session, now=now, ttl=timedelta(hours=12), client_ip=None
    )
    await user_sessions.issue_ticket(old.id, session=session, now=now - timedelta(days=9))
    await user_sessions.issue_ticket(current.id, session=session, now=now - timedelta(minutes=1))
    fresh = await user_sessions.issue_ticket(current.id, session=session, now=now)
    await session.commit()
    assert await user_sessions.purge_job(session) == 3
    await session.commit()
    assert [s.id for s in (await session.scalars(select(UserSession))).all()] == [current.id]
    tickets = (await session.scalars(select(WsTicket))).all()
    assert [t.ticket_hash for t in tickets] == [hashlib.sha256(fresh.encode()).hexdigest()]


async def test_every_instance_runs_the_purge_job(database_url):
    app = create_app(Settings(secret_key=TEST_SECRET), database_url=database_url)
    async with app.router.lifespan_context(app):
        jobs = {name: every for name, _, every in app.state.workers.jobs}
    assert jobs["session-purge"] == user_sessions.PURGE_EVERY_SECONDS
