"""The websocket: auth, who receives what, resume without gap or duplicate, retention, slow and
dead clients, graceful shutdown."""

import asyncio
import json
import signal
import socket
from datetime import timedelta

import asyncpg
import httpx
import pytest
from sqlalchemy.engine import make_url
from websockets.exceptions import ConnectionClosed

from app.database import create_engine, create_sessionmaker
from tests.accounts import open_session
from tests.factories import incident
from tests.live import LIVE_SECRET, add_user, connect, drain, receive_json, receive_until
from tests.test_live_dispatch import setup_area


def dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def create_incidents(server, headers, count: int, **changes) -> list[dict]:
    async with httpx.AsyncClient(base_url=server.url) as client:
        created = []
        for _ in range(count):
            r = await client.post("/api/v1/incidents", json=incident(**changes), headers=headers)
            assert r.status_code == 201, r.text
            created.append(r.json())
        return created


async def closed_with(url: str) -> tuple[int, str]:
    async with connect(url) as ws:
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 5)
    return closed.value.rcvd.code, closed.value.rcvd.reason


async def test_socket_refuses_bad_tickets_and_tokens_with_a_clear_code(start_server):
    server = await start_server()
    user = await add_user(server.database_url, "supervisor")
    assert (await closed_with(f"ws://127.0.0.1:{server.port}/ws"))[0] == 4401
    code, reason = await closed_with(server.ticket_url("made-up-ticket"))
    assert code == 4401 and "ticket" in reason
    code, reason = await closed_with(server.ticket_url("x" * 500))
    assert code == 4401 and "ticket" in reason
    # The access token is no longer taken in the URL, even a valid one.
    token_url = f"ws://127.0.0.1:{server.port}/ws?token={user['token']}"
    code, reason = await closed_with(token_url)
    assert code == 4401 and "ws-ticket" in reason
    code, reason = await closed_with(server.ws_url(user["token"]) + "&after=yesterday")
    assert code == 4400


async def test_open_socket_is_closed_when_its_session_expires_or_account_is_disabled(
    start_server,
):
    server = await start_server()  # re-checks only every minute: the timer and NOTIFY act
    user = await add_user(server.database_url, "supervisor")
    engine = create_engine(server.database_url, pool_size=1)
    try:
        async with create_sessionmaker(engine)() as session, session.begin():
            short, _ = await open_session(
                session, user["id"], secret=LIVE_SECRET, ttl=timedelta(seconds=3)
            )
    finally:
        await engine.dispose()
    async with connect(server.ws_url(short)) as ws:
        await ws.send('{"type": "ping"}')
        assert await receive_until(ws, lambda m: m["type"] == "pong")  # open, session good
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                await asyncio.wait_for(ws.recv(), 8)
    assert closed.value.rcvd.code == 4401 and "shift-long limit" in closed.value.rcvd.reason

    async with connect(server.ws_url(user["token"])) as ws:
        await ws.send('{"type": "ping"}')
        assert await receive_until(ws, lambda m: m["type"] == "pong")
        connection = await asyncpg.connect(dsn(server.database_url))
        try:
            await connection.execute("UPDATE users SET active = false WHERE id = $1", user["id"])
        finally:
            await connection.close()
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                await asyncio.wait_for(ws.recv(), 5)
    assert closed.value.rcvd.code == 4401 and "not active" in closed.value.rcvd.reason


async def test_who_receives_what(start_server):
    server = await start_server()
    people = await setup_area(server)
    nurse = await add_user(server.database_url, "nurse", unit="DESK1")
    async with httpx.AsyncClient(base_url=server.url) as client:
        r = await client.post(
            "/api/v1/units",
            json={"callsign": "DESK1", "kind": "nurse_desk", "status": "available"},
            headers=people["supervisor"]["headers"],
        )
        assert r.status_code == 201
    sockets = {
        "supervisor": people["supervisor"],
        "handler": people["handler"],
        "tc1": people["crews"]["TC1"],
        "tc2": people["crews"]["TC2"],
        "nurse": nurse,
    }
    conns = {
        name: await connect(server.ws_url(u["token"])).__aenter__() for name, u in sockets.items()
    }
    try:
        await create_incidents(server, people["handler"]["headers"], 1)  # triage car → TC1
        await create_incidents(
            server,
            people["handler"]["headers"],
            1,
            source="officer_on_scene",
            **{"risk.immediate_risk_to_life": False, "risk.suicidal": False},
        )
        seen = {name: await drain(ws, 1.0) for name, ws in conns.items()}
    finally:
        for ws in conns.values():
            await ws.close()

    def kinds(name):
        return [(m["type"], m["data"].get("unit")) for m in seen[name]]

    assert ("assignment.offered", "TC1") in kinds("supervisor")
    assert ("assignment.offered", "DESK1") in kinds("supervisor")
    assert any(t == "unit.updated" for t, _ in kinds("supervisor"))
    assert ("assignment.offered", "TC1") in kinds("tc1")
    assert all(unit == "TC1" for t, unit in kinds("tc1"))
    assert [m for m in seen["tc2"] if m["type"].startswith("assignment")] == []
    assert [u for t, u in kinds("nurse") if t.startswith("assignment")] == ["DESK1"]
    assert next(m for m in seen["nurse"] if m["type"] == "assignment.offered")["data"]["incident"]
    handler_types = {t for t, _ in kinds("handler")}
    assert "incident.updated" in handler_types and "unit.updated" not in handler_types
    assert all("incident" not in m["data"] for m in seen["handler"])
    for name, messages in seen.items():
        ids = [m["id"] for m in messages]
        assert ids == sorted(set(ids)), name  # strictly increasing per subscriber


async def test_resume_replays_missed_events_without_gap_or_duplicate(start_server):
    server = await start_server()
    people = await setup_area(
        server, cars=[(f"TC{i}", {"lat": 52.9, "lon": -1.1}) for i in range(1, 4)]
    )
    supervisor = people["supervisor"]
    async with connect(server.ws_url(supervisor["token"])) as ws:
        await create_incidents(server, people["handler"]["headers"], 2)
        first = await drain(ws, 1.0)
    assert first
    last_id = first[-1]["id"]
    await create_incidents(server, people["handler"]["headers"], 3)  # while disconnected
    async with connect(server.ws_url(supervisor["token"], after=last_id)) as ws:
        replayed = await drain(ws, 1.0)
        await create_incidents(server, people["handler"]["headers"], 1)
        live = await drain(ws, 1.0)
    ids = [m["id"] for m in first + replayed + live]
    assert ids == sorted(set(ids))
    connection = await asyncpg.connect(dsn(server.database_url))
    try:
        stored = await connection.fetch("SELECT id FROM events WHERE id >= $1 ORDER BY id", ids[0])
    finally:
        await connection.close()
    assert ids == [r["id"] for r in stored]  # a supervisor sees every event in the area


async def test_resume_during_a_burst_of_concurrent_writes(start_server):
    server = await start_server()
    people = await setup_area(server, cars=[])
    supervisor = people["supervisor"]
    headers = people["handler"]["headers"]
    stop = asyncio.Event()

    async def writer():
        async with httpx.AsyncClient(base_url=server.url) as client:
            while not stop.is_set():
                await asyncio.gather(
                    *[
                        client.post("/api/v1/incidents", json=incident(), headers=headers)
                        for _ in range(4)
                    ]
                )

    received: list[dict] = []
    writers = [asyncio.create_task(writer()) for _ in range(3)]
    try:
        for _ in range(4):  # connect, read a little, drop, resume from the last id
            after = received[-1]["id"] if received else None
            async with connect(server.ws_url(supervisor["token"], after=after)) as ws:
                for _ in range(15):
                    received.append(await receive_until(ws, lambda m: "id" in m))
    finally:
        stop.set()
        await asyncio.gather(*writers)
    async with connect(server.ws_url(supervisor["token"], after=received[-1]["id"])) as ws:
        received.extend(m for m in await drain(ws, 1.5) if "id" in m)
    ids = [m["id"] for m in received]
    assert ids == sorted(set(ids)), "duplicate or out of order"
    connection = await asyncpg.connect(dsn(server.database_url))
    try:
        stored = [
            r["id"]
            for r in await connection.fetch(
                "SELECT id FROM events WHERE id >= $1 ORDER BY id", ids[0]
            )
        ]
    finally:
        await connection.close()
    assert ids == stored, "an event was skipped"


async def test_cursor_older_than_retention_is_told_to_resync(start_server):
    server = await start_server()
    people = await setup_area(server, cars=[])
    await create_incidents(server, people["handler"]["headers"], 2)
    connection = await asyncpg.connect(dsn(server.database_url))
    try:
        newest = await connection.fetchval("SELECT max(id) FROM events")
        # As the purge job does once events pass the retention period.
        await connection.execute("DELETE FROM events WHERE id <= $1", newest - 1)
        await connection.execute("UPDATE event_retention SET purged_through = $1", newest - 1)
    finally:
        await connection.close()
    async with connect(server.ws_url(people["supervisor"]["token"], after=0)) as ws:
        message = await receive_json(ws)
        assert message["type"] == "resync"
        assert message["data"]["reason"] == "cursor_too_old"
    async with connect(server.ws_url(people["supervisor"]["token"], after=newest - 1)) as ws:
        replay = await drain(ws, 0.8)
        assert [m["id"] for m in replay] == [newest]


async def status(server, headers) -> dict:
    async with httpx.AsyncClient(base_url=server.url) as client:
        return (await client.get("/api/v1/realtime/status", headers=headers)).json()


async def test_slow_client_is_disconnected_and_others_are_not_slowed(start_server):
    server = await start_server(WS_QUEUE_SIZE="20", WS_SEND_TIMEOUT_SECONDS="2")
    people = await setup_area(server, cars=[])
    supervisor = people["supervisor"]
    # A client that never reads: websockets stops reading from the socket once its small buffer
    # is full, so the server's writes back up.
    raw = socket.socket()
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    raw.connect(("127.0.0.1", server.port))
    slow = await connect(server.ws_url(supervisor["token"]), sock=raw, max_queue=1)
    # The fast client reads everything as it comes (no flow control on its side).
    async with connect(server.ws_url(supervisor["token"]), max_queue=None) as fast:
        handler = people["handler"]["headers"]
        async with httpx.AsyncClient(base_url=server.url) as client:
            created = await client.post("/api/v1/incidents", json=incident(), headers=handler)
            url = f"/api/v1/incidents/{created.json()['id']}/override"
            # Overrides with a 2,000-character reason make ~3 KB events. How much the kernel
            # buffers for a socket nobody reads varies (send buffers autotune up to tcp_wmem's
            # 4 MiB), so write until the server gives up on the slow client, up to ~7 MB.
            overrides = 0
            for batch in range(240):
                outcome = "triage_car" if batch % 2 else "police_and_triage"
                body = {"outcome": outcome, "reason": f"{batch:04d} " + "r" * 1995}
                answers = await asyncio.gather(
                    *[client.post(url, json=body, headers=handler) for _ in range(10)]
                )
                assert all(a.status_code == 200 for a in answers), answers[0].text
                overrides += 10
                if (
                    batch % 5 == 4
                    and (await status(server, supervisor["headers"]))["subscribers"] == 1
                ):
                    break
        got = await drain(fast, 1.5)
        updates = [m for m in got if m["type"] == "incident.updated"]
        assert len(updates) == overrides + 1  # the fast client missed nothing
        assert (await status(server, supervisor["headers"]))["subscribers"] == 1
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            await asyncio.wait_for(slow.recv(), 5)
    assert closed.value.rcvd is None or closed.value.rcvd.code in (4008, 1011, 1006)
    await slow.close()


async def test_dead_connection_is_found_by_heartbeat(start_server):
    server = await start_server(WS_PING_INTERVAL_SECONDS="1")
    supervisor = await add_user(server.database_url, "supervisor")
    # A raw client that completes the handshake and then never answers a ping.
    sock = socket.create_connection(("127.0.0.1", server.port))
    sock.sendall(
        (
            f"GET /ws?ticket={server.ticket(supervisor['token'])} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            "Upgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    assert b"101" in sock.recv(1024)
    try:
        assert (await status(server, supervisor["headers"]))["subscribers"] == 1
        for _ in range(50):
            await asyncio.sleep(0.2)
            if (await status(server, supervisor["headers"]))["subscribers"] == 0:
                break
        assert (await status(server, supervisor["headers"]))["subscribers"] == 0
    finally:
        sock.close()


async def test_graceful_shutdown_closes_sockets_with_service_restart(start_server):
    server = await start_server()
    supervisor = await add_user(server.database_url, "supervisor")
    async with connect(server.ws_url(supervisor["token"])) as ws:
        await ws.send(json.dumps({"type": "ping"}))
        assert await receive_until(ws, lambda m: m["type"] == "pong")
        stopping = asyncio.create_task(server.stop(signal.SIGTERM))
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 10)
        assert closed.value.rcvd.code in (1001, 1012)
        # uvicorn re-raises the captured SIGTERM once shut down cleanly.
        assert await stopping in (0, -signal.SIGTERM)
