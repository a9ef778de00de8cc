"""Clock thresholds across instances and restarts: each announced exactly once, within seconds
of the moment computed from the recorded times, including crossings while nothing ran."""

import asyncio
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx

from tests.factories import incident
from tests.live import add_user
from tests.test_live_events import dsn
from tests.test_s136_api import detention


async def prepare(server):
    db = server.database_url
    admin, supervisor = await add_user(db, "admin"), await add_user(db, "supervisor")
    handler, crew = await add_user(db, "call_handler"), await add_user(db, "crew", unit="TC1")
    async with httpx.AsyncClient(base_url=server.url) as client:
        await client.patch(
            "/api/v1/areas/default",
            json={"handover_goal_minutes": 5, "handover_warning_minutes": 4},
            headers=admin["headers"],
        )
        place = (
            await client.post(
                "/api/v1/places-of-safety",
                json={"name": "Suite", "type": "health_based_place_of_safety"},
                headers=supervisor["headers"],
            )
        ).json()
        incident_id = (
            await client.post("/api/v1/incidents", json=incident(), headers=handler["headers"])
        ).json()["id"]
        r = await client.post(
            f"/api/v1/incidents/{incident_id}/s136",
            json=detention(place["id"]),
            headers=crew["headers"],
        )
        assert r.status_code == 201, r.text
    return incident_id, crew


async def arrive(server, incident_id, crew, warning_in: float) -> datetime:
    """Record arrival so that the 4-minute warning falls due `warning_in` seconds from now."""
    arrived = datetime.now(UTC) - timedelta(minutes=4) + timedelta(seconds=warning_in)
    async with httpx.AsyncClient(base_url=server.url) as client:
        r = await client.post(
            f"/api/v1/incidents/{incident_id}/s136/arrived",
            json={"at": arrived.isoformat()},
            headers=crew["headers"],
        )
        assert r.status_code == 200, r.text
    return arrived


async def handover_events(database_url: str, incident_id: int) -> list[asyncpg.Record]:
    connection = await asyncpg.connect(dsn(database_url))
    try:
        return await connection.fetch(
            "SELECT type, at FROM events"
            " WHERE incident_id = $1 AND type LIKE 'handover.%' ORDER BY id",
            incident_id,
        )
    finally:
        await connection.close()


async def test_two_instances_announce_the_warning_once_and_on_time(start_server):
    a = await start_server("a")
    b = await start_server("b")
    incident_id, crew = await prepare(a)
    arrived = await arrive(b, incident_id, crew, warning_in=3)
    await asyncio.sleep(6)
    rows = await handover_events(a.database_url, incident_id)
    assert [r["type"] for r in rows] == ["handover.started", "handover.warning"]
    due = arrived + timedelta(minutes=4)
    lateness = (rows[1]["at"] - due).total_seconds()
    assert 0 <= lateness < 5, lateness


async def test_crossing_while_no_instance_ran_is_announced_once_after_restart(start_server):
    a = await start_server("a")
    incident_id, crew = await prepare(a)
    await arrive(a, incident_id, crew, warning_in=4)
    await a.stop()
    await asyncio.sleep(6)  # the warning falls due while nothing runs
    assert [r["type"] for r in await handover_events(a.database_url, incident_id)] == [
        "handover.started"
    ]
    restarted_at = datetime.now(UTC)
    b = await start_server("b")
    c = await start_server("c")
    await asyncio.sleep(3)
    rows = await handover_events(b.database_url, incident_id)
    assert [r["type"] for r in rows] == ["handover.started", "handover.warning"]
    assert rows[1]["at"] >= restarted_at
    await c.stop()
    await b.stop()
