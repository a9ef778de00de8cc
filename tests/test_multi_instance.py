"""Several service processes on one database behave as one: events cross instances, and timers
fire exactly once, including timers that fell due while every instance was down."""

import asyncio

import asyncpg
import httpx

from tests.factories import incident
from tests.live import add_user, connect, crews_online, drain, online, receive_until
from tests.test_live_dispatch import NEAR, setup_area
from tests.test_live_events import dsn


async def test_event_made_on_one_instance_reaches_a_socket_on_another(start_server):
    a = await start_server("a")
    b = await start_server("b")
    people = await setup_area(a)
    async with connect(b.ws_url(people["crews"]["TC1"]["token"])) as tablet:
        await online(tablet)
        async with httpx.AsyncClient(base_url=a.url) as client:
            created = await client.post(
                "/api/v1/incidents", json=incident(), headers=people["handler"]["headers"]
            )
        offer = await receive_until(tablet, lambda m: m["type"] == "assignment.offered", timeout=3)
        assert offer["data"]["incident_id"] == created.json()["id"]
        # and a command sent to instance b acts on the shared database
        await tablet.send(
            f'{{"type": "assignment.accept", "assignment_id": {offer["data"]["assignment_id"]}}}'
        )
        result = await receive_until(tablet, lambda m: m["type"] == "assignment.accept.result")
        assert result["data"]["ok"] is True


async def test_offer_expiry_fires_once_with_two_instances(start_server):
    a = await start_server("a")
    b = await start_server("b")
    people = await setup_area(a, ack_timeout=10, cars=(("TC1", NEAR),))
    supervisor = people["supervisor"]
    async with (
        crews_online(a, people["crews"]),
        connect(a.ws_url(supervisor["token"])) as on_a,
        connect(b.ws_url(supervisor["token"])) as on_b,
    ):
        async with httpx.AsyncClient(base_url=b.url) as client:
            created = (
                await client.post(
                    "/api/v1/incidents", json=incident(), headers=people["handler"]["headers"]
                )
            ).json()
        await receive_until(on_a, lambda m: m["type"] == "escalation.raised", timeout=20)
        seen_a = await drain(on_a, 1.5)
        seen_b = await drain(on_b, 0.5)
    connection = await asyncpg.connect(dsn(a.database_url))
    try:
        rows = await connection.fetch(
            "SELECT type, data FROM events WHERE incident_id = $1 ORDER BY id", created["id"]
        )
    finally:
        await connection.close()
    expired = [r for r in rows if r["type"] == "assignment.updated" and '"expired"' in r["data"]]
    escalations = [r for r in rows if r["type"] == "escalation.raised"]
    assert len(expired) == 1 and len(escalations) == 1
    # each socket saw the escalation exactly once (a's was consumed by receive_until above)
    assert [m["type"] for m in seen_a].count("escalation.raised") == 0
    assert [m["type"] for m in seen_b].count("escalation.raised") == 1


async def test_offer_due_while_every_instance_was_down_fires_on_restart(
    start_server, live_database
):
    a = await start_server("a")
    people = await setup_area(a, ack_timeout=10)
    async with crews_online(a, people["crews"]), httpx.AsyncClient(base_url=a.url) as client:
        created = (
            await client.post(
                "/api/v1/incidents", json=incident(), headers=people["handler"]["headers"]
            )
        ).json()
    assert created["assignments"][0]["unit"] == "TC1"
    await a.stop()  # the tablets' sockets close with it
    await asyncio.sleep(11)  # the offer falls due while nothing runs
    restarted = await start_server("a2")
    tablet_token = people["crews"]["TC2"]["token"]
    # The expiry fires on restart; with no crew connected the incident waits, and TC2's tablet
    # signing in is the car coming free.
    async with connect(restarted.ws_url(tablet_token, after=0)) as tablet:
        offer = await receive_until(tablet, lambda m: m["type"] == "assignment.offered", timeout=5)
    assert offer["data"]["incident_id"] == created["id"]
    async with httpx.AsyncClient(base_url=restarted.url) as client:
        current = (
            await client.get(
                f"/api/v1/incidents/{created['id']}", headers=people["handler"]["headers"]
            )
        ).json()
    assert [(x["unit"], x["status"]) for x in current["assignments"]] == [
        ("TC1", "expired"),
        ("TC2", "offered"),
    ]


async def test_accepted_incident_survives_a_crash(start_server):
    import signal

    a = await start_server("a")
    people = await setup_area(a)
    async with httpx.AsyncClient(base_url=a.url) as client:
        created = await client.post(
            "/api/v1/incidents", json=incident(), headers=people["handler"]["headers"]
        )
    assert created.status_code == 201
    await a.stop(signal.SIGKILL)
    b = await start_server("b")
    supervisor = await add_user(b.database_url, "supervisor")
    async with httpx.AsyncClient(base_url=b.url) as client:
        again = await client.get(
            f"/api/v1/incidents/{created.json()['id']}", headers=supervisor["headers"]
        )
    assert again.status_code == 200
    assert again.json()["decision"] == created.json()["decision"]
