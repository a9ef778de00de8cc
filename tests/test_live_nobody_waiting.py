"""Nobody left waiting, through a real server and real sockets: offers only to crews signed in,
supervisors told at once of risk to life, escalations repeated until owned, a freed car picking
up the waiting incident, and the desk's hand-off escalated when not done."""

import asyncpg
import httpx

from tests.factories import incident
from tests.live import add_user, connect, crews_online, online, receive_until
from tests.test_live_dispatch import NEAR, setup_area
from tests.test_live_events import dsn

TRIAGE = incident(**{"risk.immediate_risk_to_life": False})  # triage_car


def is_type(kind, **data):
    return lambda m: m.get("type") == kind and all(m["data"].get(k) == v for k, v in data.items())


async def _sql(server, statement: str, *args) -> None:
    connection = await asyncpg.connect(dsn(server.database_url))
    try:
        await connection.execute(statement, *args)
    finally:
        await connection.close()


async def test_risk_to_life_goes_only_to_the_car_whose_crew_is_signed_in(start_server):
    server = await start_server()
    people = await setup_area(server)  # TC1 near, TC2 far
    supervisor = people["supervisor"]
    async with (
        connect(server.ws_url(supervisor["token"])) as wss,
        crews_online(server, {"TC2": people["crews"]["TC2"]}) as tablets,
        httpx.AsyncClient(base_url=server.url) as client,
    ):
        created = await client.post(
            "/api/v1/incidents", json=incident(), headers=people["handler"]["headers"]
        )
        assert created.status_code == 201, created.text
        assert [a["unit"] for a in created.json()["assignments"]] == ["TC2"]
        offer = await receive_until(tablets["TC2"], is_type("assignment.offered"))
        assert offer["data"]["urgent"] is True
        # Supervisors are told alongside the offer, with the short limit to accept it.
        told = await receive_until(wss, is_type("assignment.offered", unit="TC2"))
        assert told["data"]["urgent"] is True and told["data"]["risk_level"] == "immediate"
        assert told["data"]["incident_id"] == created.json()["id"]


async def test_a_car_whose_tablet_closed_is_not_offered_work(start_server):
    server = await start_server()
    people = await setup_area(server, cars=(("TC1", NEAR),))
    async with crews_online(server, people["crews"]):
        pass  # signed in, then the tablet closed: the unit stops counting at once
    async with httpx.AsyncClient(base_url=server.url) as client:
        created = await client.post(
            "/api/v1/incidents", json=incident(), headers=people["handler"]["headers"]
        )
    assert created.json()["assignments"] == []
    assert created.json()["next_step"]["action"] == "await_unit"


async def test_escalation_is_announced_again_until_a_supervisor_owns_it(start_server):
    server = await start_server()
    people = await setup_area(server, cars=())
    supervisor = people["supervisor"]
    admin = await add_user(server.database_url, "admin")
    async with httpx.AsyncClient(base_url=server.url) as client:
        r = await client.patch(
            "/api/v1/areas/default",
            json={"escalation_repeat_seconds": 10},
            headers=admin["headers"],
        )
        assert r.status_code == 200, r.text
        async with connect(server.ws_url(supervisor["token"])) as wss:
            await online(wss)
            created = (
                await client.post(
                    "/api/v1/incidents", json=incident(), headers=people["handler"]["headers"]
                )
            ).json()
            raised = await receive_until(wss, is_type("escalation.raised"))
            assert raised["data"]["reason"] == "no_unit_available"
            assert raised["data"]["incident_id"] == created["id"]
            repeated = await receive_until(wss, is_type("escalation.repeated"), timeout=20)
            assert repeated["data"]["announced_count"] == 2
            escalation_id = repeated["data"]["escalation_id"]
            ack = await client.post(
                f"/api/v1/escalations/{escalation_id}/acknowledge",
                json={"action": "Phoned the on-call inspector; TC3 coming on early"},
                headers=supervisor["headers"],
            )
            assert ack.status_code == 200, ack.text
            owned = await receive_until(wss, is_type("escalation.acknowledged"))
            assert owned["data"]["acknowledged_by"] == ack.json()["acknowledged_by"]
            try:
                again = await receive_until(wss, is_type("escalation.repeated"), timeout=12)
            except TimeoutError:
                again = None
            assert again is None  # owned: not announced again
        listed = (
            await client.get("/api/v1/escalations?state=all", headers=supervisor["headers"])
        ).json()
        assert listed[0]["action"].startswith("Phoned")


async def test_a_freed_car_picks_up_the_waiting_incident(start_server):
    server = await start_server()
    people = await setup_area(server, cars=(("TC1", NEAR),))
    crew = people["crews"]["TC1"]
    handler = people["handler"]["headers"]
    async with (
        crews_online(server, people["crews"]) as tablets,
        httpx.AsyncClient(base_url=server.url) as client,
    ):
        first = (await client.post("/api/v1/incidents", json=TRIAGE, headers=handler)).json()
        job = first["assignments"][0]["id"]
        waiting = (await client.post("/api/v1/incidents", json=incident(), headers=handler)).json()
        assert waiting["assignments"] == [] and waiting["next_step"]["action"] == "await_unit"
        for action, body in (("accept", None), ("status", {"status": "cleared"})):
            r = await client.post(
                f"/api/v1/assignments/{job}/{action}", json=body, headers=crew["headers"]
            )
            assert r.status_code == 200, r.text
        offer = await receive_until(
            tablets["TC1"], is_type("assignment.offered", incident_id=waiting["id"]), timeout=10
        )
        assert offer["data"]["unit"] == "TC1"


async def test_a_referral_not_handed_off_in_time_is_escalated(start_server):
    server = await start_server()
    people = await setup_area(server, cars=())
    referral = incident(
        category="concern_for_welfare",
        **{
            "risk.immediate_risk_to_life": False,
            "risk.suicidal": False,
            "context.known_to_mh_services": False,
        },
    )
    async with (
        connect(server.ws_url(people["supervisor"]["token"])) as wss,
        httpx.AsyncClient(base_url=server.url) as client,
    ):
        await online(wss)
        created = (
            await client.post(
                "/api/v1/incidents", json=referral, headers=people["handler"]["headers"]
            )
        ).json()
        assert created["next_step"]["action"] == "handoff"
        # The task limit passes with nothing done.
        await _sql(
            server,
            "UPDATE incidents SET task_due_at = now() - interval '1 second' WHERE id = $1",
            created["id"],
        )
        raised = await receive_until(
            wss, is_type("escalation.raised", reason="handoff_overdue"), timeout=10
        )
        assert raised["data"]["incident_id"] == created["id"]
        passed = await client.post(
            f"/api/v1/incidents/{created['id']}/handoff",
            json={"to": "nhs_111", "reference": "NHS111-0042"},
            headers=people["handler"]["headers"],
        )
        assert passed.status_code == 201
        resolved = await receive_until(wss, is_type("escalation.acknowledged"))
        assert resolved["data"]["action"].startswith("Passed to NHS 111")
