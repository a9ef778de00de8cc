"""Units and assignments over HTTP (in process): validation, roles, and events written with the
change."""

import pytest
from sqlalchemy import select

from app.models import AuditEntry, Event
from tests.factories import incident

ROLES = ("call_handler", "crew", "nurse", "supervisor", "admin")
CAR = {
    "callsign": "TC9",
    "kind": "triage_car",
    "status": "available",
    "lat": 52.95,
    "lon": -1.15,
    "crew": [{"name": "PC Smith", "role": "officer"}, {"name": "RMN Patel", "role": "nurse"}],
}


async def test_create_list_and_update_unit(client, supervisor, make_user, session):
    created = await client.post("/api/v1/units", json=CAR, headers=supervisor)
    assert created.status_code == 201, created.text
    assert created.json()["area"] == "default" and created.json()["active_assignments"] == 0
    crew = await make_user("crew", unit="TC9")
    moved = await client.patch(
        "/api/v1/units/TC9", json={"status": "en_route", "lat": 52.9, "lon": -1.2}, headers=crew
    )
    assert moved.status_code == 200 and moved.json()["status"] == "en_route"
    listed = (await client.get("/api/v1/units", headers=crew)).json()
    assert [u["callsign"] for u in listed] == ["TC9"]
    events = list(await session.scalars(select(Event).where(Event.type == "unit.updated")))
    assert events[-1].data["status"] == "en_route" and events[-1].unit_callsign == "TC9"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**CAR, "kind": "bicycle"}, "kind"),
        ({**CAR, "callsign": "has space"}, "callsign"),
        ({**CAR, "lat": 100}, "lat"),
        ({**CAR, "crew": [{"name": "X", "role": "pilot"}]}, "crew.0.role"),
        ({k: v for k, v in CAR.items() if k != "kind"}, "kind"),
        ({**CAR, "area": "atlantis"}, "area"),
    ],
)
async def test_unit_validation(client, supervisor, body, field):
    response = await client.post("/api/v1/units", json=body, headers=supervisor)
    assert response.status_code == 422
    assert field in [d["field"] for d in response.json()["error"]["details"]]


async def test_unit_conflicts_and_ownership(client, supervisor, make_user):
    await client.post("/api/v1/units", json=CAR, headers=supervisor)
    again = await client.post("/api/v1/units", json=CAR, headers=supervisor)
    assert again.status_code == 409
    other_crew = await make_user("crew", unit="TC8")
    response = await client.patch(
        "/api/v1/units/TC9", json={"status": "off_duty"}, headers=other_crew
    )
    assert response.status_code == 403
    half = await client.patch("/api/v1/units/TC9", json={"lat": 52.0}, headers=supervisor)
    assert half.status_code == 422
    null = await client.patch("/api/v1/units/TC9", json={"status": None}, headers=supervisor)
    assert null.status_code == 422
    missing = await client.patch(
        "/api/v1/units/NOPE", json={"status": "available"}, headers=supervisor
    )
    assert missing.status_code == 404


async def test_busy_unit_cannot_go_off_duty(client, supervisor, handler, connect):
    await client.post("/api/v1/units", json=CAR, headers=supervisor)
    await connect("TC9")
    created = (await client.post("/api/v1/incidents", json=incident(), headers=handler)).json()
    assert created["assignments"][0]["unit"] == "TC9"
    response = await client.patch(
        "/api/v1/units/TC9", json={"status": "off_duty"}, headers=supervisor
    )
    assert response.status_code == 409 and response.json()["error"]["code"] == "unit_busy"


async def test_intake_writes_its_events_in_the_same_transaction(
    client, supervisor, handler, session, connect
):
    await client.post("/api/v1/units", json=CAR, headers=supervisor)
    await connect("TC9")
    created = (await client.post("/api/v1/incidents", json=incident(), headers=handler)).json()
    rows = list(
        await session.scalars(
            select(Event).where(Event.incident_id == created["id"]).order_by(Event.id)
        )
    )
    # The incident's event comes after the offer, so it says what the incident needs next.
    assert [e.type for e in rows] == ["assignment.offered", "incident.updated"]
    assert rows[1].data["next_step"]["action"] == "await_acceptance"
    offered = rows[0]
    assert offered.unit_callsign == "TC9" and offered.audience == ["call_handler"]
    assert offered.restricted["incident"]["location"]["description"] == "Trent Bridge, north side"
    assert "name" not in offered.restricted["incident"]["person"]


async def test_bad_request_writes_no_event(client, handler, session):
    before = len(list(await session.scalars(select(Event.id))))
    await client.post("/api/v1/incidents", json=incident(**{"person.age": 200}), headers=handler)
    assert len(list(await session.scalars(select(Event.id)))) == before


async def test_no_car_available_escalates(client, handler, session):
    created = (await client.post("/api/v1/incidents", json=incident(), headers=handler)).json()
    assert created["assignments"] == []
    escalation = await session.scalar(
        select(Event).where(Event.incident_id == created["id"], Event.type == "escalation.raised")
    )
    assert escalation.data["reason"] == "no_unit_available"


async def test_assignment_validation_and_unknowns(client, supervisor, handler, make_user, connect):
    await client.post("/api/v1/units", json=CAR, headers=supervisor)
    await connect("TC9")
    created = (await client.post("/api/v1/incidents", json=incident(), headers=handler)).json()
    assignment_id = created["assignments"][0]["id"]
    crew = await make_user("crew", unit="TC9")
    no_reason = await client.post(
        f"/api/v1/assignments/{assignment_id}/decline", json={}, headers=crew
    )
    assert (
        no_reason.status_code == 422
        and no_reason.json()["error"]["details"][0]["field"] == "reason"
    )
    bad_status = await client.post(
        f"/api/v1/assignments/{assignment_id}/status", json={"status": "flying"}, headers=crew
    )
    assert bad_status.status_code == 422
    before_accept = await client.post(
        f"/api/v1/assignments/{assignment_id}/status", json={"status": "on_scene"}, headers=crew
    )
    assert before_accept.status_code == 409
    missing = await client.post("/api/v1/assignments/999999/accept", headers=crew)
    assert missing.status_code == 404
    unknown_unit = await client.post(
        f"/api/v1/incidents/{created['id']}/dispatch", json={"unit": "ZZ9"}, headers=handler
    )
    assert unknown_unit.status_code == 422
    mine = (await client.get("/api/v1/assignments", headers=crew)).json()
    assert [a["id"] for a in mine] == [assignment_id]


# (method, path, body, allowed roles → status)
MATRIX = [
    ("POST", "/api/v1/units", {**CAR, "callsign": "R{n}"}, {"admin": 201, "supervisor": 201}),
    (
        "GET",
        "/api/v1/units",
        None,
        {"admin": 200, "supervisor": 200, "call_handler": 200, "crew": 200, "nurse": 200},
    ),
    ("PATCH", "/api/v1/units/TC9", {"lat": 52.0, "lon": -1.0}, {"supervisor": 200, "crew": 200}),
    ("GET", "/api/v1/assignments", None, {"supervisor": 200, "crew": 200, "nurse": 200}),
    ("POST", "/api/v1/assignments/{a}/accept", None, {"supervisor": 200, "crew": 200}),
    (
        "POST",
        "/api/v1/incidents/{i}/dispatch",
        {"unit": "TC7", "force": False},
        {"call_handler": 201, "supervisor": 201},
    ),
    ("GET", "/api/v1/realtime/status", None, {"admin": 200, "supervisor": 200}),
]


@pytest.mark.parametrize(
    ("method", "path", "body", "allowed"), MATRIX, ids=[f"{m} {p}" for m, p, *_ in MATRIX]
)
async def test_role_matrix(
    client, make_user, supervisor, handler, connect, method, path, body, allowed
):
    for callsign in ("TC9", "TC7"):
        await client.post("/api/v1/units", json={**CAR, "callsign": callsign}, headers=supervisor)
    await connect("TC9", "TC7")
    created = (await client.post("/api/v1/incidents", json=incident(), headers=handler)).json()
    url = path.format(a=created["assignments"][0]["id"], i=created["id"])
    assert (await client.request(method, url, json=body)).status_code == 401
    for n, role in enumerate(ROLES):
        headers = await make_user(role, unit={"crew": "TC9", "nurse": "DESK"}.get(role))
        payload = (
            {**body, "callsign": body["callsign"].format(n=n)}
            if body and "callsign" in body
            else body
        )
        response = await client.request(method, url, json=payload, headers=headers)
        if method == "POST" and "dispatch" in url and response.status_code == 201:
            # free TC7 again for the next role
            await client.post(
                f"/api/v1/assignments/{response.json()['id']}/decline",
                json={"reason": "test"},
                headers=supervisor,
            )
        assert response.status_code == allowed.get(role, 403), (role, response.text)


async def test_assignment_list_carries_the_need_to_know_summary(
    client, supervisor, handler, make_user, session, connect
):
    """A tablet that restarted and missed the offer event still sees where and who, from REST;
    never the person's name, only for its own unit, and each summary shown is audited."""
    for callsign in ("TC9", "TC7"):
        await client.post("/api/v1/units", json={**CAR, "callsign": callsign}, headers=supervisor)
    await connect("TC9", "TC7")
    body = incident(**{"person.name": "Sam Example"})
    created = (await client.post("/api/v1/incidents", json=body, headers=handler)).json()
    offered_to = created["assignments"][0]["unit"]
    other = "TC7" if offered_to == "TC9" else "TC9"
    crew = await make_user("crew", unit=offered_to)

    listed = (await client.get("/api/v1/assignments", headers=crew)).json()
    assert [a["incident_id"] for a in listed] == [created["id"]]
    summary = listed[0]["incident"]
    assert summary["location"]["description"] == body["location"]["description"]
    assert "immediate_risk_to_life" in summary["risks"]
    assert "name" not in summary["person"]
    reads = await session.scalars(
        select(AuditEntry).where(
            AuditEntry.action == "incident.summary_read",
            AuditEntry.subject_id == str(created["id"]),
        )
    )
    assert len(list(reads)) == 1

    other_crew = await make_user("crew", unit=other)
    assert (await client.get("/api/v1/assignments", headers=other_crew)).json() == []
    declined = await client.post(
        f"/api/v1/assignments/{listed[0]['id']}/decline", json={"reason": "busy"}, headers=crew
    )
    assert declined.status_code == 200
    history = (await client.get("/api/v1/assignments?active=false", headers=crew)).json()
    assert history[0]["status"] == "declined" and history[0]["incident"] is None
