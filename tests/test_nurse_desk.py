"""The nurse desk: advice requests from officers on scene (nurse_advice)."""

from sqlalchemy import select

from app.models import Event
from tests.factories import incident

ADVICE_CALL = incident(
    source="officer_on_scene",
    circumstances="PC 1234 with a woman on the bridge parapet, now stepped back; asks about s136.",
    caller={"name": "PC Ahmed", "role": "PC 1234, response", "phone": "07700 900123"},
    **{"risk.immediate_risk_to_life": False, "risk.suicidal": False},
)


async def test_advice_request_flow(client, supervisor, handler, make_user, session, connect):
    r = await client.post(
        "/api/v1/units",
        json={"callsign": "DESK1", "kind": "nurse_desk", "status": "available"},
        headers=supervisor,
    )
    assert r.status_code == 201
    await connect("DESK1")
    nurse = await make_user("nurse", unit="DESK1")
    created = (await client.post("/api/v1/incidents", json=ADVICE_CALL, headers=handler)).json()
    assert created["decision"]["outcome"] == "nurse_advice"
    assert created["caller"]["name"] == "PC Ahmed"
    offer = created["assignments"][0]
    assert offer["unit"] == "DESK1"
    event = await session.scalar(
        select(Event).where(Event.incident_id == created["id"], Event.type == "assignment.offered")
    )
    summary = event.restricted["incident"]
    assert summary["circumstances"].startswith("PC 1234") and summary["caller"]["phone"]
    url = f"/api/v1/assignments/{offer['id']}"
    early = await client.post(
        f"{url}/advice", json={"advice": "x", "s136_used": False}, headers=nurse
    )
    assert early.status_code == 409  # accept first
    assert (await client.post(f"{url}/accept", headers=nurse)).status_code == 200
    missing = await client.post(f"{url}/advice", json={"s136_used": True}, headers=nurse)
    assert missing.status_code == 422
    body = {
        "advice": "Known to CMHT; crisis team can see her at home within the hour. "
        "s136 not needed if she agrees.",
        "s136_used": False,
    }
    done = await client.post(f"{url}/advice", json=body, headers=nurse)
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "cleared" and done.json()["s136_used"] is False
    again = await client.post(f"{url}/advice", json=body, headers=nurse)
    assert again.status_code == 200  # a retry
    other = await client.post(f"{url}/advice", json={**body, "s136_used": True}, headers=nurse)
    assert other.status_code == 409
    final = (await client.get(f"/api/v1/incidents/{created['id']}", headers=handler)).json()
    assert final["status"] == "closed"
    # Issue 9: the advice is for the desk, the asking unit and supervisors, not call handlers.
    assert final["assignments"][0]["advice"] is None and final["assignments"][0]["advice_at"]
    seen = (await client.get(f"/api/v1/incidents/{created['id']}", headers=supervisor)).json()
    assert seen["assignments"][0]["advice"].startswith("Known to CMHT")


async def test_crew_summary_has_no_circumstances(client, supervisor, handler, session, connect):
    await client.post(
        "/api/v1/units",
        json={"callsign": "TC5", "kind": "triage_car", "status": "available"},
        headers=supervisor,
    )
    await connect("TC5")
    created = (
        await client.post(
            "/api/v1/incidents", json=incident(circumstances="secret detail"), headers=handler
        )
    ).json()
    event = await session.scalar(
        select(Event).where(Event.incident_id == created["id"], Event.type == "assignment.offered")
    )
    assert event.restricted["incident"]["circumstances"] is None
