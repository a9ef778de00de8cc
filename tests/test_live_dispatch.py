"""Dispatch end to end through a real server: offers reach the right tablet, accept over the
socket, decline and expiry re-offer, escalation, and no car taken twice."""

import asyncio

import httpx
import pytest

from tests.factories import incident
from tests.live import add_user, connect, crews_online, drain, online, receive_until

# Trent Bridge; TC1 ~1 km away, TC2 ~5 km away.
NEAR = {"lat": 52.945, "lon": -1.13}
FAR = {"lat": 52.98, "lon": -1.10}


async def setup_area(server, *, ack_timeout: int | None = None, cars=(("TC1", NEAR), ("TC2", FAR))):
    db = server.database_url
    admin = await add_user(db, "admin")
    supervisor = await add_user(db, "supervisor")
    handler = await add_user(db, "call_handler")
    async with httpx.AsyncClient(base_url=server.url) as client:
        if ack_timeout is not None:
            r = await client.patch(
                "/api/v1/areas/default",
                json={"ack_timeout_seconds": ack_timeout},
                headers=admin["headers"],
            )
            assert r.status_code == 200, r.text
        for callsign, position in cars:
            r = await client.post(
                "/api/v1/units",
                json={
                    "callsign": callsign,
                    "kind": "triage_car",
                    "status": "available",
                    **position,
                    "crew": [
                        {"name": "PC Ali", "role": "officer"},
                        {"name": "RMN Jo", "role": "nurse"},
                    ],
                },
                headers=supervisor["headers"],
            )
            assert r.status_code == 201, r.text
    crews = {callsign: await add_user(db, "crew", unit=callsign) for callsign, _ in cars}
    return {"supervisor": supervisor, "handler": handler, "crews": crews}


def is_type(kind):
    return lambda m: m.get("type") == kind


async def test_offer_reaches_nearest_car_and_accept_over_socket(start_server):
    server = await start_server()
    people = await setup_area(server)
    tc1, tc2 = people["crews"]["TC1"], people["crews"]["TC2"]
    async with (
        connect(server.ws_url(tc1["token"])) as ws1,
        connect(server.ws_url(tc2["token"])) as ws2,
        connect(server.ws_url(people["handler"]["token"])) as wsh,
    ):
        await online(ws1)
        await online(ws2)
        async with httpx.AsyncClient(base_url=server.url) as client:
            created = await client.post(
                "/api/v1/incidents", json=incident(), headers=people["handler"]["headers"]
            )
        assert created.status_code == 201, created.text
        body = created.json()
        assert body["assignments"][0]["unit"] == "TC1"
        assert body["assignments"][0]["status"] == "offered"

        offer = await receive_until(ws1, is_type("assignment.offered"))
        data = offer["data"]
        assert data["unit"] == "TC1" and data["incident_id"] == body["id"]
        assert data["incident"]["location"]["description"] == "Trent Bridge, north side"
        assert "immediate_risk_to_life" in data["incident"]["risks"]
        assert "name" not in data["incident"]["person"]
        assert isinstance(offer["id"], int) and offer["at"].endswith("+00:00")

        handler_view = await receive_until(wsh, is_type("assignment.offered"))
        assert "incident" not in handler_view["data"]  # need to know: the crew's summary only

        await ws1.send('{"type": "ping"}')
        assert (await receive_until(ws1, is_type("pong")))["type"] == "pong"

        await ws1.send(f'{{"type": "assignment.accept", "assignment_id": {data["assignment_id"]}}}')
        result = await receive_until(ws1, is_type("assignment.accept.result"))
        assert result["data"]["ok"] is True and result["data"]["status"] == "accepted"
        updated = await receive_until(wsh, lambda m: m["type"] == "assignment.updated")
        assert updated["data"]["status"] == "accepted"

        others = [m for m in await drain(ws2) if m["type"].startswith("assignment.")]
        assert others == []  # TC2's tablet saw nothing of TC1's offer


async def test_decline_reoffers_and_last_decline_escalates(start_server):
    server = await start_server()
    people = await setup_area(server)
    supervisor = people["supervisor"]
    async with (
        crews_online(server, people["crews"]),
        connect(server.ws_url(supervisor["token"])) as wss,
        httpx.AsyncClient(base_url=server.url) as client,
    ):
        created = (
            await client.post(
                "/api/v1/incidents", json=incident(), headers=people["handler"]["headers"]
            )
        ).json()
        first = created["assignments"][0]
        declined = await client.post(
            f"/api/v1/assignments/{first['id']}/decline",
            json={"reason": "already at a job"},
            headers=people["crews"]["TC1"]["headers"],
        )
        assert declined.status_code == 200, declined.text
        assert declined.json()["status"] == "declined"
        second = await receive_until(
            wss, lambda m: m["type"] == "assignment.offered" and m["data"]["unit"] == "TC2"
        )
        assert second["data"]["incident"]["id"] == created["id"]  # supervisors see the summary
        await client.post(
            f"/api/v1/assignments/{second['data']['assignment_id']}/decline",
            json={"reason": "fuel"},
            headers=people["crews"]["TC2"]["headers"],
        )
        escalation = await receive_until(wss, is_type("escalation.raised"))
        assert escalation["data"]["incident_id"] == created["id"]
        assert escalation["data"]["reason"] == "no_unit_accepted"
        assert escalation["data"]["risk"] == "immediate"


async def test_unanswered_offer_expires_and_moves_on(start_server):
    server = await start_server()
    people = await setup_area(server, ack_timeout=10)
    async with (
        crews_online(server, people["crews"]) as sockets,
        httpx.AsyncClient(base_url=server.url) as client,
    ):
        ws2 = sockets["TC2"]
        created = (
            await client.post(
                "/api/v1/incidents", json=incident(), headers=people["handler"]["headers"]
            )
        ).json()
        assert created["assignments"][0]["unit"] == "TC1"
        offer = await receive_until(ws2, is_type("assignment.offered"), timeout=20)
        assert offer["data"]["incident_id"] == created["id"]
        current = (
            await client.get(
                f"/api/v1/incidents/{created['id']}", headers=people["handler"]["headers"]
            )
        ).json()
        assert [a["status"] for a in current["assignments"]] == ["expired", "offered"]
        late = await client.post(
            f"/api/v1/assignments/{created['assignments'][0]['id']}/accept",
            headers=people["crews"]["TC1"]["headers"],
        )
        assert late.status_code == 409


async def test_concurrent_incidents_never_take_the_same_car(start_server):
    server = await start_server()
    cars = [(f"TC{i}", {"lat": 52.94 + i / 1000, "lon": -1.14}) for i in range(1, 6)]
    people = await setup_area(server, cars=cars)
    headers = people["handler"]["headers"]
    async with (
        crews_online(server, people["crews"]),
        httpx.AsyncClient(base_url=server.url) as client,
    ):
        responses = await asyncio.gather(
            *[client.post("/api/v1/incidents", json=incident(), headers=headers) for _ in range(8)]
        )
    assert all(r.status_code == 201 for r in responses), [r.text for r in responses]
    offered = [r.json()["assignments"][0]["unit"] for r in responses if r.json()["assignments"]]
    assert len(offered) == 5 and len(set(offered)) == 5  # five cars, five different incidents
    assert sum(1 for r in responses if not r.json()["assignments"]) == 3


async def test_crew_status_flow_closes_incident(start_server):
    server = await start_server()
    people = await setup_area(server)
    crew = people["crews"]["TC1"]["headers"]
    async with (
        crews_online(server, people["crews"]),
        httpx.AsyncClient(base_url=server.url) as client,
    ):
        created = (
            await client.post(
                "/api/v1/incidents", json=incident(), headers=people["handler"]["headers"]
            )
        ).json()
        assignment_id = created["assignments"][0]["id"]
        hidden = await client.get(f"/api/v1/incidents/{created['id']}", headers=crew)
        assert hidden.status_code == 404  # not taken yet
        for action, payload in (
            ("accept", None),
            ("accept", None),
            ("status", {"status": "en_route"}),
            ("status", {"status": "on_scene"}),
            ("status", {"status": "on_scene"}),
        ):
            r = await client.post(
                f"/api/v1/assignments/{assignment_id}/{action}", json=payload, headers=crew
            )
            assert r.status_code == 200, r.text
        seen = await client.get(f"/api/v1/incidents/{created['id']}", headers=crew)
        assert seen.status_code == 200 and seen.json()["status"] == "on_scene"
        back = await client.post(
            f"/api/v1/assignments/{assignment_id}/status", json={"status": "en_route"}, headers=crew
        )
        assert back.status_code == 409, back.text
        other = await client.post(
            f"/api/v1/assignments/{assignment_id}/status",
            json={"status": "cleared"},
            headers=people["crews"]["TC2"]["headers"],
        )
        assert other.status_code == 403
        cleared = await client.post(
            f"/api/v1/assignments/{assignment_id}/status", json={"status": "cleared"}, headers=crew
        )
        assert cleared.status_code == 200
        final = (
            await client.get(
                f"/api/v1/incidents/{created['id']}", headers=people["handler"]["headers"]
            )
        ).json()
        assert final["status"] == "closed"
        units = (await client.get("/api/v1/units", headers=people["supervisor"]["headers"])).json()
        tc1 = next(u for u in units if u["callsign"] == "TC1")
        assert tc1["status"] == "available" and tc1["active_assignments"] == 0


@pytest.mark.parametrize("force", [False, True])
async def test_dispatch_by_hand_to_busy_unit_needs_supervisor_force(start_server, force):
    server = await start_server()
    people = await setup_area(server, cars=(("TC1", NEAR),))
    async with (
        crews_online(server, people["crews"]),
        httpx.AsyncClient(base_url=server.url) as client,
    ):
        first = (
            await client.post(
                "/api/v1/incidents", json=incident(), headers=people["handler"]["headers"]
            )
        ).json()
        second = (
            await client.post(
                "/api/v1/incidents", json=incident(), headers=people["handler"]["headers"]
            )
        ).json()
        assert first["assignments"][0]["unit"] == "TC1" and second["assignments"] == []
        who = people["supervisor"] if force else people["handler"]
        r = await client.post(
            f"/api/v1/incidents/{second['id']}/dispatch",
            json={"unit": "TC1", "force": force},
            headers=who["headers"],
        )
        if force:
            assert r.status_code == 201 and r.json()["offered_by"] != "auto"
        else:
            assert r.status_code == 409 and r.json()["error"]["code"] == "unit_busy"
