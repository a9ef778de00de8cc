"""Sessions across real instances: signing out, disabling an account, resetting a password and
changing an account reach every instance's REST and open sockets within seconds; websocket
tickets are single use everywhere; no secret reaches the server's output; X-Forwarded-For is
believed only from trusted proxies; sign-in throttling holds under a burst."""

import asyncio
import subprocess
import sys
from typing import Any

import asyncpg
import httpx
import jwt
import pytest
from websockets.exceptions import ConnectionClosed

from tests.live import (
    LIVE_PASSWORD,
    PROJECT_ROOT,
    LiveServer,
    add_user,
    connect,
    online,
    receive_until,
)
from tests.test_live_events import dsn

WITHIN = 5.0  # seconds: revocation and changes reach every instance this fast


async def sql(server: LiveServer, statement: str, *args: Any) -> list[asyncpg.Record]:
    connection = await asyncpg.connect(dsn(server.database_url))
    try:
        return await connection.fetch(statement, *args)
    finally:
        await connection.close()


async def sign_in(server: LiveServer, username: str, password: str = LIVE_PASSWORD, **headers):
    async with httpx.AsyncClient(base_url=server.url) as client:
        return await client.post(
            "/api/v1/auth/token", data={"username": username, "password": password}, headers=headers
        )


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def get_areas(server: LiveServer, token: str) -> int:
    async with httpx.AsyncClient(base_url=server.url) as client:
        return (await client.get("/api/v1/areas", headers=bearer(token))).status_code


async def refused_within(server: LiveServer, token: str, seconds: float = WITHIN) -> bool:
    """Whether the token gets 401 from `server` within `seconds`."""
    deadline = asyncio.get_running_loop().time() + seconds
    while asyncio.get_running_loop().time() < deadline:
        if await get_areas(server, token) == 401:
            return True
        await asyncio.sleep(0.1)
    return False


async def closed_within(ws, seconds: float = WITHIN) -> tuple[int, str]:
    """The close code and reason of a socket the server closes within `seconds`."""
    with pytest.raises(ConnectionClosed) as closed:
        async with asyncio.timeout(seconds):
            while True:
                await ws.recv()
    assert closed.value.rcvd is not None, "closed without a close frame"
    return closed.value.rcvd.code, closed.value.rcvd.reason


async def command_line(server: LiveServer, *args: str, stdin: str = "") -> str:
    """`python -m app …` against the server's database, as an administrator would run it."""
    result = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "app", *args],
        input=stdin,
        env=server.env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


async def test_sign_out_ends_the_session_on_every_instance(start_server):
    a = await start_server("a")
    b = await start_server("b")
    user = await add_user(a.database_url, "supervisor")
    token = (await sign_in(a, user["username"])).json()["access_token"]
    assert await get_areas(b, token) == 200
    async with connect(b.ws_url(token)) as ws:  # a ticket from b, opened on b
        await online(ws)
        async with httpx.AsyncClient(base_url=a.url) as client:
            assert (
                await client.post("/api/v1/auth/logout", headers=bearer(token))
            ).status_code == 204
        code, reason = await closed_within(ws)
    assert code == 4401 and "signed out" in reason
    assert await refused_within(b, token)
    assert await get_areas(a, token) == 401
    assert (await get_areas(a, user["token"])) == 200  # another session of the same user lives


async def test_disabling_an_account_closes_its_socket_on_another_instance(start_server):
    a = await start_server("a")
    b = await start_server("b")
    user = await add_user(a.database_url, "supervisor")
    async with connect(b.ws_url(user["token"])) as ws:
        await online(ws)
        said = await command_line(a, "user", "disable", user["username"])
        assert "1 open session(s) ended" in said
        code, reason = await closed_within(ws)
    assert code == 4401 and "disabled" in reason
    assert await refused_within(a, user["token"]) and await refused_within(b, user["token"])
    assert (await sign_in(b, user["username"])).status_code == 401


async def test_resetting_a_password_ends_sessions_and_sockets(start_server):
    a = await start_server("a")
    b = await start_server("b")
    user = await add_user(a.database_url, "supervisor")
    async with connect(a.ws_url(user["token"])) as ws:
        await online(ws)
        await command_line(
            b, "user", "reset-password", user["username"], stdin="kestrel-orchard-lamp-7\n"
        )
        code, reason = await closed_within(ws)
    assert code == 4401 and "password was reset" in reason
    assert await refused_within(b, user["token"])
    assert (await sign_in(a, user["username"])).status_code == 401
    assert (await sign_in(a, user["username"], "kestrel-orchard-lamp-7")).status_code == 200


@pytest.mark.parametrize(
    ("column", "value"),
    [("unit_callsign", "TC2"), ("role", "call_handler"), ("area_id", None)],
)
async def test_a_change_of_unit_role_or_area_closes_the_socket_on_every_instance(
    start_server, column, value
):
    a = await start_server("a")
    b = await start_server("b")
    crew = await add_user(a.database_url, "crew", unit="TC1")
    if column == "area_id":
        admin = await add_user(a.database_url, "admin")
        async with httpx.AsyncClient(base_url=a.url) as client:
            created = await client.post(
                "/api/v1/areas", json={"code": "north", "name": "North"}, headers=admin["headers"]
            )
            assert created.status_code == 201, created.text
        value = (await sql(a, "SELECT id FROM areas WHERE code = 'north'"))[0]["id"]
    async with connect(a.ws_url(crew["token"])) as on_a, connect(b.ws_url(crew["token"])) as on_b:
        await online(on_a)
        await online(on_b)
        await sql(a, f"UPDATE users SET {column} = $1 WHERE id = $2", value, crew["id"])
        for ws in (on_a, on_b):
            code, reason = await closed_within(ws)
            assert code == 4401 and "changed" in reason


async def test_a_ticket_opens_one_socket_once_on_any_instance(start_server):
    a = await start_server("a")
    b = await start_server("b")
    user = await add_user(a.database_url, "supervisor")
    ticket = a.ticket(user["token"])
    async with connect(b.ticket_url(ticket)) as ws:  # issued by a, used on b
        await online(ws)
        for server in (a, b):  # used: on neither instance again
            async with connect(server.ticket_url(ticket)) as again:
                code, reason = await closed_within(again)
                assert code == 4401 and "already used" in reason
        await online(ws)  # the first socket is unaffected


async def test_two_instances_racing_for_one_ticket_let_exactly_one_in(start_server):
    a = await start_server("a")
    b = await start_server("b")
    user = await add_user(a.database_url, "supervisor")
    for _ in range(3):
        ticket = a.ticket(user["token"])

        async def use(server: LiveServer, ticket: str = ticket) -> bool:
            async with connect(server.ticket_url(ticket)) as ws:
                await ws.send('{"type": "ping"}')
                try:
                    async with asyncio.timeout(WITHIN):
                        return (await receive_until(ws, lambda m: m["type"] == "pong")) != {}
                except ConnectionClosed:
                    return False

        assert sorted(await asyncio.gather(use(a), use(b))) == [False, True]


async def test_a_ticket_expires_and_dies_with_its_session(start_server):
    server = await start_server()
    user = await add_user(server.database_url, "supervisor")
    stale = server.ticket(user["token"])
    await sql(server, "UPDATE ws_tickets SET expires_at = now() - interval '1 second'")
    async with connect(server.ticket_url(stale)) as ws:
        code, reason = await closed_within(ws)
    assert code == 4401 and "expired" in reason
    unused = server.ticket(user["token"])
    async with httpx.AsyncClient(base_url=server.url) as client:
        await client.post("/api/v1/auth/logout", headers=user["headers"])
        refused = await client.post("/api/v1/auth/ws-ticket", headers=user["headers"])
    assert refused.status_code == 401
    async with connect(server.ticket_url(unused)) as ws:
        code, reason = await closed_within(ws)
    assert code == 4401 and "signed out" in reason


async def test_an_open_socket_keeps_its_session_in_use(start_server):
    server = await start_server(WS_RECHECK_SECONDS="0.5")
    user = await add_user(server.database_url, "crew", unit="TC1")
    ago = "SELECT extract(epoch FROM now() - last_seen_at) AS s FROM sessions WHERE id = $1::uuid"
    async with connect(server.ws_url(user["token"])) as ws:
        await online(ws)
        await sql(
            server,
            "UPDATE sessions SET last_seen_at = now() - interval '59 minutes' WHERE id = $1::uuid",
            user["session_id"],
        )
        renewed = False
        for _ in range(50):
            await asyncio.sleep(0.1)
            if (await sql(server, ago, user["session_id"]))[0]["s"] < 60:
                renewed = True
                break
        assert renewed, "the socket did not keep its session in use"
        await online(ws)
    assert await get_areas(server, user["token"]) == 403  # still signed in (a crew: not allowed)


async def test_no_token_ticket_or_password_reaches_the_server_output(start_server):
    server = await start_server(WS_PING_INTERVAL_SECONDS="1")
    user = await add_user(server.database_url, "supervisor")
    signed_in = await sign_in(server, user["username"])
    token = signed_in.json()["access_token"]
    tickets = []
    async with httpx.AsyncClient(base_url=server.url) as client:
        tickets.append(server.ticket(token))
        async with connect(server.ticket_url(tickets[0], after=0)) as ws:
            await online(ws)
        for url in (
            server.ticket_url(tickets[0]),  # used already
            f"ws://127.0.0.1:{server.port}/ws?token={token}",  # a client that still sends it
            f"ws://127.0.0.1:{server.port}/ws?after=1&access_token={token}",
        ):
            async with connect(url) as ws:
                await closed_within(ws)
        tickets.append(server.ticket(token))
        async with connect(server.ticket_url(tickets[1], after="yesterday")) as ws:
            await closed_within(ws)  # a bad cursor: 4400
        tickets.append(server.ticket(token))
        async with connect(server.ticket_url(tickets[2])) as ws:
            await online(ws)
            await ws.send("not json")
            await ws.send('{"type": "assignment.accept", "assignment_id": 999999}')
            await ws.send('{"type": "who-knows"}')
            await asyncio.sleep(0.3)
        await client.get("/api/v1/incidents/999999", headers=bearer(token))
        await client.get(f"/api/v1/areas?token={token}", headers=bearer(token))
        await client.get("/api/v1/areas", headers=bearer(token + "x"))
        await client.post("/api/v1/incidents", json={"nope": 1}, headers=bearer(token))
        await client.post(
            "/api/v1/auth/token",
            data={"username": user["username"], "password": LIVE_PASSWORD + "-wrong"},
        )
        await client.post("/api/v1/auth/token", data={"username": "x" * 81, "password": "p"})
        await client.post("/api/v1/auth/logout", headers=bearer(token))
        await client.post("/api/v1/auth/ws-ticket", headers=bearer(token))  # 401 now
    await server.stop()
    output = server.log()
    assert "/ws?ticket=[redacted]" in output  # the lines that would hold them were written
    _header, payload, signature = token.split(".")
    for secret in (token, payload, signature, *tickets, LIVE_PASSWORD, user["token"]):
        assert secret not in output, "a secret is in the server's output"
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["sid"] not in output


async def test_forwarded_for_is_believed_only_from_trusted_proxies(start_server):
    direct = await start_server("direct")
    proxied = await start_server("proxied", TRUSTED_PROXIES="127.0.0.1")
    user = await add_user(direct.database_url, "supervisor")
    for server in (direct, proxied):
        answer = await sign_in(server, user["username"], **{"X-Forwarded-For": "203.0.113.9"})
        assert answer.status_code == 200
    addresses = [
        r["client_ip"]
        for r in await sql(
            direct, "SELECT client_ip FROM audit_entries WHERE action = 'auth.sign_in' ORDER BY id"
        )
    ]
    assert addresses == ["127.0.0.1", "203.0.113.9"]
    # From anyone else, a made-up X-Forwarded-For does not escape the per-address throttle.
    statuses = []
    for n in range(12):
        answer = await sign_in(
            direct, f"nobody-{n}", "guess", **{"X-Forwarded-For": f"198.51.100.{n}"}
        )
        statuses.append(answer.status_code)
    assert statuses[:10] == [401] * 10 and statuses[10] == 429


async def test_a_burst_of_parallel_guesses_is_throttled_like_a_sequence(start_server):
    server = await start_server()
    user = await add_user(server.database_url, "supervisor")
    answers = await asyncio.gather(
        *[sign_in(server, user["username"], f"guess-{n}") for n in range(12)]
    )
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [401] * 3 + [429] * 9  # only the three free ones reached the password
