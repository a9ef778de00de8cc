"""The audit of issue 9: refused attempts survive the request's rollback; ownership is checked
before any row is locked; summaries delivered over websockets are audited; the per-incident
trail for supervisors (`GET /api/v1/audit?subject=incident:N`)."""

import asyncio
import json
import time
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import make_url

from app.auth.actor import Actor
from app.config import Settings
from app.database import create_engine, create_sessionmaker
from app.errors import NotFound
from app.main import create_app
from app.models import AuditEntry
from app.realtime.audience import Envelope, Viewer
from app.realtime.delivery_audit import DeliveryLog, flush
from app.realtime.hub import Subscription
from app.realtime.listener import EventListener
from app.routers.ws import handle_command
from app.services import audit
from tests.factories import incident
from tests.live import LIVE_SECRET, add_user, connect, online, receive_until
from tests.roles import as_app_role
from tests.world import ADVICE_CALL, add_place, add_unit, detain, new_incident, offer_to


def dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture
async def committed(live_database: str) -> AsyncIterator[SimpleNamespace]:
    """The application in process on a database of its own, with real transactions (no test
    transaction around it): what a request commits, or rolls back, is what the database keeps."""
    engine = create_engine(as_app_role(live_database), pool_size=4)
    app = create_app(Settings(secret_key=LIVE_SECRET))
    app.state.engine = engine
    app.state.sessionmaker = create_sessionmaker(engine)
    app.state.secret_key = LIVE_SECRET
    app.state.instance_name = "test"
    app.state.hub = None
    app.state.listener = EventListener("postgresql+asyncpg://unused/none", None)  # type: ignore[arg-type]
    observer = await asyncpg.connect(dsn(live_database))  # the owner, to watch locks and rows
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            people = {
                role: (await add_user(live_database, role))["headers"]
                for role in ("supervisor", "call_handler")
            }
            for callsign in ("TC1", "TC2"):
                await add_unit(client, people["supervisor"], callsign)
            await observer.execute(
                "INSERT INTO unit_presence (unit_id, instance, seen_at)"
                " SELECT id, 'test', now() + interval '1 hour' FROM units"
            )
            for callsign in ("TC1", "TC2"):
                user = await add_user(live_database, "crew", unit=callsign)
                people[callsign] = user["headers"]
                people[f"{callsign}-id"] = user["id"]
            yield SimpleNamespace(
                client=client,
                people=people,
                sessionmaker=app.state.sessionmaker,
                observer=observer,
                database=live_database,
            )
    finally:
        await observer.close()
        await engine.dispose()
        await audit.dispose_side_engines()


async def denied_rows(observer: asyncpg.Connection, incident_id: int) -> list[Any]:
    return await observer.fetch(
        "SELECT * FROM audit_entries WHERE outcome = 'denied' AND subject_type = 'incident'"
        " AND subject_id = $1 ORDER BY id",
        str(incident_id),
    )


async def test_a_refused_attempt_is_audited_although_the_request_rolls_back(committed):
    client, people = committed.client, committed.people
    created = await new_incident(client, people["call_handler"])
    refused = await client.get(f"/api/v1/incidents/{created['id']}", headers=people["TC2"])
    assert refused.status_code == 404
    [row] = await denied_rows(committed.observer, created["id"])
    assert (row["action"], row["actor_role"], row["actor_id"]) == (
        "incident.read",
        "crew",
        people["TC2-id"],
    )
    assert row["request_id"] == refused.headers["x-request-id"]  # the server's own id
    assert json.loads(row["detail"])["status"] == 404

    # The same through a websocket command, whose transaction is a `session.begin()` block.
    actor = Actor(people["TC2-id"], "tc2", "crew", 1, "default", "TC2")
    job = offer_to(created, "TC1")
    answer = json.loads(
        await handle_command(
            committed.sessionmaker, actor, {"type": "assignment.accept", "assignment_id": job}
        )
    )
    assert answer["data"]["ok"] is False and answer["data"]["error"]["code"] == "forbidden"
    rows = await denied_rows(committed.observer, created["id"])
    assert [r["action"] for r in rows] == ["incident.read", "assignment.accept"]


async def test_a_denial_is_committed_apart_from_the_transaction_that_is_rolled_back(committed):
    """The property itself: the request's own rows go with its rollback, the denial stays."""
    actor = Actor(committed.people["TC2-id"], "tc2", "crew", 1, "default", "TC2")
    async with committed.sessionmaker() as session:
        audit.record(session=session, actor=actor, action="probe.allowed", subject_type="incident")
        await session.flush()
        error = await audit.denied(
            NotFound("x"), session=session, actor=actor, action="probe.denied", subject_id=-1
        )
        assert error.status_code == 404
        await session.rollback()
    actions = await committed.observer.fetch(
        "SELECT action, outcome FROM audit_entries WHERE action LIKE 'probe.%'"
    )
    assert [(r["action"], r["outcome"]) for r in actions] == [("probe.denied", "denied")]


async def no_lock_waits_while(observer: asyncpg.Connection, task: asyncio.Task) -> bool:
    """Whether `task` finished without any backend of this database waiting for a lock."""
    while not task.done():
        waiting = await observer.fetchval(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        if waiting:
            return False
        await asyncio.sleep(0.01)
    return True


async def test_ownership_is_checked_before_any_row_is_locked(committed):
    """Another unit's request is refused while the owner's transaction holds the row: it must
    not wait for (or take) the lock. Before issue 9 it locked the row first, then refused."""
    client, people, observer = committed.client, committed.people, committed.observer
    supervisor = people["supervisor"]
    place = await add_place(client, supervisor)
    created = await new_incident(client, people["call_handler"])
    job = offer_to(created, "TC1")
    await detain(client, people["TC1"], created["id"], place)

    holder = await asyncpg.connect(dsn(committed.database))
    try:
        for table, row_id, request in (
            ("assignments", job, ("POST", f"/api/v1/assignments/{job}/accept", None)),
            (
                "detentions",
                await observer.fetchval(
                    "SELECT id FROM detentions WHERE incident_id = $1", created["id"]
                ),
                (
                    "POST",
                    f"/api/v1/incidents/{created['id']}/s136/arrived",
                    {"at": "2026-01-01T00:00:00Z"},
                ),
            ),
        ):
            transaction = holder.transaction()
            await transaction.start()
            await holder.execute(f"SELECT 1 FROM {table} WHERE id = $1 FOR UPDATE", row_id)
            method, url, body = request
            task = asyncio.create_task(
                client.request(method, url, json=body, headers=people["TC2"])
            )
            unblocked = await no_lock_waits_while(observer, task)
            await transaction.rollback()
            response = await task
            assert unblocked, f"a refused request waited for the {table} row's lock"
            assert response.status_code in (403, 404), response.text
    finally:
        await holder.close()


# --- the trail a supervisor reads -------------------------------------------------------------


async def test_the_audit_trail_of_an_incident(
    client, handler, supervisor, make_user, connect, session
):
    await add_unit(client, supervisor, "TC1")
    await add_unit(client, supervisor, "TC2")
    await connect("TC1", "TC2")
    tc1 = await make_user("crew", unit="TC1")
    tc2 = await make_user("crew", unit="TC2")
    created = await new_incident(client, handler)
    other = await new_incident(client, handler)
    await client.get(f"/api/v1/incidents/{created['id']}", headers=handler)
    await client.get("/api/v1/incidents", headers=handler)
    job = offer_to(created, "TC1")
    assert (await client.post(f"/api/v1/assignments/{job}/accept", headers=tc1)).status_code == 200
    refused = await client.get(f"/api/v1/incidents/{created['id']}", headers=tc2)
    assert refused.status_code == 404

    url = f"/api/v1/audit?subject=incident:{created['id']}"
    response = await client.get(url, headers=supervisor)
    assert response.status_code == 200, response.text
    rows = response.json()
    assert set(rows[0]) == {
        "id",
        "at",
        "actor",
        "role",
        "action",
        "subject",
        "request_id",
        "outcome",
    }
    assert [r["id"] for r in rows] == sorted(r["id"] for r in rows)  # oldest first
    assert all(r["subject"] == f"incident:{created['id']}" for r in rows)
    trail = [(r["action"], r["role"], r["outcome"]) for r in rows]
    assert trail[0] == ("incident.create", "call_handler", "allowed")
    for expected in (
        ("assignment.offered", "system", "allowed"),
        ("incident.read", "call_handler", "allowed"),
        ("incident.list", "call_handler", "allowed"),  # a row naming several incidents
        ("assignment.accepted", "crew", "allowed"),
        ("incident.read", "crew", "denied"),
    ):
        assert expected in trail, expected
    assert all(r["request_id"] for r in rows if r["role"] != "system")
    others = (
        await client.get(f"/api/v1/audit?subject=incident:{other['id']}", headers=supervisor)
    ).json()
    assert {r["subject"] for r in others} == {f"incident:{other['id']}"}
    assert ("incident.read", "crew", "denied") not in [
        (r["action"], r["role"], r["outcome"]) for r in others
    ]

    # Reading the trail is itself audited (and shows up next time).
    again = (await client.get(url, headers=supervisor)).json()
    assert again[-1]["action"] == "audit.read" and again[-1]["role"] == "supervisor"
    # Paging.
    page = (await client.get(f"{url}&after={rows[1]['id']}&limit=2", headers=supervisor)).json()
    assert [r["id"] for r in page] == [r["id"] for r in rows[2:4]]


async def test_the_audit_trail_is_for_supervisors_of_the_incidents_area(
    client, handler, supervisor, make_user, admin
):
    created = await new_incident(client, handler)
    url = f"/api/v1/audit?subject=incident:{created['id']}"
    for role in ("call_handler", "crew", "nurse", "admin"):
        headers = await make_user(role, unit={"crew": "TC1", "nurse": "DESK1"}.get(role))
        assert (await client.get(url, headers=headers)).status_code == 403, role
    await client.post("/api/v1/areas", json={"code": "notts", "name": "Notts"}, headers=admin)
    elsewhere = await make_user("supervisor", area="notts")
    assert (await client.get(url, headers=elsewhere)).status_code == 404
    for bad in ("incident:x", "incident", "unit:TC1", "incident:-1", f"incident:{created['id']} "):
        response = await client.get("/api/v1/audit", params={"subject": bad}, headers=supervisor)
        assert response.status_code == 422, bad
        assert response.json()["error"]["details"][0]["field"].endswith("subject")
    huge = await client.get("/api/v1/audit?subject=incident:99999999999", headers=supervisor)
    assert huge.status_code == 404


# --- summaries delivered over websockets ------------------------------------------------------


def envelope(event_id: int, unit: str, summary_of: int | None) -> Envelope:
    return Envelope(
        id=event_id,
        area_id=1,
        unit_callsign=unit,
        audience=("call_handler",),
        full='{"full": true}',
        public='{"full": false}',
        summary_of=summary_of,
    )


def test_deliveries_are_noted_only_for_those_sent_the_summary(monkeypatch):
    log = DeliveryLog()
    monkeypatch.setattr("app.realtime.hub.deliveries", log)
    crew = Viewer(7, "crew", 1, "TC1")
    handler = Viewer(8, "call_handler", 1, None)
    supervisor = Viewer(9, "supervisor", 1, None)
    for viewer in (crew, handler, supervisor):
        subscription = Subscription(viewer, 0, 10)
        subscription.offer(envelope(1, "TC1", 41))
        subscription.offer(envelope(2, "TC1", 42))
        subscription.offer(envelope(3, "TC1", None))  # e.g. unit.updated: nothing to audit
    drained = log.drain()
    assert set(drained) == {crew, supervisor}  # not the call handler: public rendering
    assert drained[crew].incident_ids == {41, 42} and drained[crew].events == 2
    assert len(log) == 0


async def test_a_flush_writes_one_row_per_viewer(session, make_user):
    await make_user("crew", unit="TC1")
    user_id = await session.scalar(text("SELECT max(id) FROM users"))
    log = DeliveryLog()
    viewer = Viewer(user_id, "crew", 1, "TC1")
    for incident_id in (5, 6, 5):
        log.note(viewer, incident_id)
    assert await flush(session, log) == 1
    assert await flush(session, log) == 0
    row = await session.scalar(
        select(AuditEntry)
        .where(AuditEntry.action == "incident.summary_delivered")
        .order_by(AuditEntry.id.desc())
    )
    assert row.actor_id == user_id and row.actor_username.startswith("crew-")
    assert row.detail == {"incident_ids": [5, 6], "events": 3, "unit": "TC1"}
    assert row.subject_id is None  # several: found through detail.incident_ids


async def test_summaries_delivered_over_websockets_are_audited(start_server):
    server = await start_server()
    db = server.database_url
    supervisor = await add_user(db, "supervisor")
    handler = await add_user(db, "call_handler")
    async with httpx.AsyncClient(base_url=server.url) as client:
        await add_unit(client, supervisor["headers"], "TC1")
        await add_unit(client, supervisor["headers"], "DESK1", kind="nurse_desk")
        crew = await add_user(db, "crew", unit="TC1")
        nurse = await add_user(db, "nurse", unit="DESK1")
        async with (
            connect(server.ws_url(crew["token"])) as crew_ws,
            connect(server.ws_url(nurse["token"])) as nurse_ws,
            connect(server.ws_url(supervisor["token"])) as supervisor_ws,
            connect(server.ws_url(handler["token"])) as handler_ws,
        ):
            for ws in (crew_ws, nurse_ws, supervisor_ws, handler_ws):
                await online(ws)
            car = await client.post(
                "/api/v1/incidents", json=incident(), headers=handler["headers"]
            )
            asked = await client.post(
                "/api/v1/incidents", json=incident(**ADVICE_CALL), headers=handler["headers"]
            )
            car_id, asked_id = car.json()["id"], asked.json()["id"]
            offered = await receive_until(crew_ws, lambda m: m.get("type") == "assignment.offered")
            assert offered["data"]["incident"]["id"] == car_id
            await receive_until(nurse_ws, lambda m: m.get("type") == "assignment.offered")
            await receive_until(handler_ws, lambda m: m.get("type") == "assignment.offered")

        async def delivered_to(user_id: int) -> set[int]:
            engine_dsn = dsn(db)
            connection = await asyncpg.connect(engine_dsn)
            try:
                rows = await connection.fetch(
                    "SELECT detail FROM audit_entries"
                    " WHERE action = 'incident.summary_delivered' AND actor_id = $1",
                    user_id,
                )
            finally:
                await connection.close()
            return {i for r in rows for i in json.loads(r["detail"])["incident_ids"]}

        # Written by the server's worker within about a second of the delivery.
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            seen = {
                name: await delivered_to(user["id"])
                for name, user in (("crew", crew), ("nurse", nurse), ("supervisor", supervisor))
            }
            if seen["crew"] and seen["nurse"] and {car_id, asked_id} <= seen["supervisor"]:
                break
            await asyncio.sleep(0.2)
        assert seen["crew"] == {car_id} and seen["nurse"] == {asked_id}
        assert {car_id, asked_id} <= seen["supervisor"]
        assert await delivered_to(handler["id"]) == set()  # never sent a summary
        trail = (
            await client.get(
                f"/api/v1/audit?subject=incident:{car_id}", headers=supervisor["headers"]
            )
        ).json()
        assert ("incident.summary_delivered", "crew") in [(r["action"], r["role"]) for r in trail]


async def test_a_role_refused_person_data_is_audited_as_denied(
    client, handler, supervisor, make_user, session
):
    created = await new_incident(client, handler)
    admin = await make_user("admin")
    nurse = await make_user("nurse", unit="DESK1")
    for headers, method, url in (
        (handler, "GET", f"/api/v1/incidents/{created['id']}/s136"),
        (nurse, "POST", f"/api/v1/incidents/{created['id']}/s136/outcome"),
        (admin, "GET", f"/api/v1/incidents/{created['id']}"),
        (handler, "GET", "/api/v1/handovers"),
    ):
        response = await client.request(method, url, json={}, headers=headers)
        assert response.status_code == 403, (url, response.text)
    rows = list(
        await session.scalars(
            select(AuditEntry)
            .where(AuditEntry.outcome == "denied", AuditEntry.request_id.is_not(None))
            .order_by(AuditEntry.id.desc())
            .limit(4)
        )
    )
    assert [(r.action, r.actor_role, r.subject_id) for r in reversed(rows)] == [
        ("detention.read", "call_handler", str(created["id"])),
        ("detention.change", "nurse", str(created["id"])),
        ("incident.read", "admin", str(created["id"])),
        ("handover.list", "call_handler", None),
    ]
    trail = (
        await client.get(f"/api/v1/audit?subject=incident:{created['id']}", headers=supervisor)
    ).json()
    assert [r["action"] for r in trail if r["outcome"] == "denied"] == [
        "detention.read",
        "detention.change",
        "incident.read",
    ]
