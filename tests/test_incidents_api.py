"""Intake, reads, paging, preview and override through the HTTP API."""

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import AuditEntry, Incident
from tests.factories import incident, scenarios


def _scenarios() -> list[dict]:
    return scenarios()


async def count(session: AsyncSession, model: type) -> int:
    return await session.scalar(select(func.count()).select_from(model))


async def test_create_returns_stored_incident_with_contract_decision(client, handler):
    response = await client.post("/api/v1/incidents", json=incident(), headers=handler)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["status"] == "open"
    assert body["area"] == "default"
    assert body["person"]["description"] == "man, 30s, red coat"
    decision = body["decision"]
    assert decision["outcome"] == "police_and_triage"
    assert decision["police_attendance"] is True
    assert decision["responders"][:2] == ["police", "triage_car"]
    assert [r["rule"] for r in decision["reasons"]] == ["T2", "M2"]
    assert decision["reasons"][0]["text"] == (
        "Real and immediate risk to life: police attend with the street triage car."
    )
    assert decision["flags"] == ["share_crisis_plan"]
    assert decision["unanswered"] == []
    assert decision["rules_version"] == "default@2026-12-02"
    assert decision["overridden"] is False
    assert decision["caller_advice"]
    assert body["assignments"] == []
    assert body["created_at"].endswith("+00:00")

    fetched = await client.get(f"/api/v1/incidents/{body['id']}", headers=handler)
    assert fetched.status_code == 200
    assert fetched.json()["decision"] == decision


@pytest.mark.parametrize("case", _scenarios(), ids=lambda c: c["name"])
async def test_public_scenarios_through_the_api(client, handler, case):
    response = await client.post("/api/v1/incidents", json=case["incident"], headers=handler)
    assert response.status_code == 201, response.text
    decision = response.json()["decision"]
    expect = case["expect"]
    assert decision["outcome"] == expect["outcome"]
    assert decision["police_attendance"] is expect["police_attendance"]
    assert set(expect["responders_include"]) <= set(decision["responders"])
    assert set(expect["flags_include"]) <= set(decision["flags"])
    assert set(expect["rules_include"]) <= {r["rule"] for r in decision["reasons"]}


async def test_scenarios_file_is_present():
    assert len(_scenarios()) >= 12


async def test_unanswered_questions_route_as_false_and_are_listed(client, handler):
    body = incident(**{"risk.weapon": None, "context.crisis_plan": ..., "risk.suicidal": None})
    decision = (await client.post("/api/v1/incidents", json=body, headers=handler)).json()[
        "decision"
    ]
    assert decision["outcome"] == "police_and_triage"
    assert decision["unanswered"] == ["risk.weapon", "risk.suicidal", "context.crisis_plan"]


async def test_minimal_body_takes_defaults(client, handler):
    body = {
        "source": "nhs_111",
        "category": "concern_for_welfare",
        "location": {"description": "home", "kind": "private_dwelling"},
    }
    response = await client.post("/api/v1/incidents", json=body, headers=handler)
    assert response.status_code == 201, response.text
    stored = response.json()
    assert stored["area"] == "default"
    assert stored["decision"]["outcome"] == "health_referral"
    assert "risk.immediate_risk_to_life" in stored["decision"]["unanswered"]


async def test_preview_decides_and_stores_nothing(client, handler, session):
    before = await count(session, Incident)
    response = await client.post("/api/v1/triage/preview", json=incident(), headers=handler)
    assert response.status_code == 200
    assert response.json()["outcome"] == "police_and_triage"
    assert await count(session, Incident) == before


async def test_list_pages_newest_first_with_filters(client, handler):
    ids = []
    for _ in range(5):
        ids.append(
            (await client.post("/api/v1/incidents", json=incident(), headers=handler)).json()["id"]
        )
    first = (await client.get("/api/v1/incidents?limit=2", headers=handler)).json()
    assert [i["id"] for i in first["items"]] == ids[::-1][:2]
    second = (
        await client.get(
            f"/api/v1/incidents?limit=2&cursor={first['next_cursor']}", headers=handler
        )
    ).json()
    assert [i["id"] for i in second["items"]] == ids[::-1][2:4]
    assert (await client.get("/api/v1/incidents?status=closed", headers=handler)).json()[
        "items"
    ] == []
    opened = (await client.get("/api/v1/incidents?status=open&limit=200", headers=handler)).json()
    assert set(ids) <= {i["id"] for i in opened["items"]}
    future = (
        await client.get(
            "/api/v1/incidents", params={"since": "2999-01-01T00:00:00Z"}, headers=handler
        )
    ).json()
    assert future == {"items": [], "next_cursor": None}


async def test_list_filters_several_statuses_and_mine(client, handler, make_user):
    other = await make_user("call_handler")
    mine = (await client.post("/api/v1/incidents", json=incident(), headers=handler)).json()
    theirs = (await client.post("/api/v1/incidents", json=incident(), headers=other)).json()
    both = await client.get("/api/v1/incidents?status=open,dispatched&limit=200", headers=handler)
    assert {mine["id"], theirs["id"]} <= {i["id"] for i in both.json()["items"]}
    only_mine = await client.get("/api/v1/incidents?mine=true&limit=200", headers=handler)
    ids = {i["id"] for i in only_mine.json()["items"]}
    assert mine["id"] in ids and theirs["id"] not in ids


async def test_list_rejects_bad_filters(client, handler):
    for query in (
        "status=lost",
        "status=open,lost",
        "status=,",
        "limit=0",
        "limit=201",
        "since=yesterday",
        "cursor=abc",
    ):
        response = await client.get(f"/api/v1/incidents?{query}", headers=handler)
        assert response.status_code == 422, query
        assert response.json()["error"]["details"], query


async def test_override_keeps_both_decisions(client, handler, supervisor):
    created = (await client.post("/api/v1/incidents", json=incident(), headers=handler)).json()
    url = f"/api/v1/incidents/{created['id']}/override"
    refused = await client.post(url, json={"outcome": "triage_car"}, headers=handler)
    assert refused.status_code == 422
    assert refused.json()["error"]["details"][0]["field"] == "reason"
    blank = await client.post(url, json={"outcome": "triage_car", "reason": "   "}, headers=handler)
    assert blank.status_code == 422

    response = await client.post(
        url,
        json={"outcome": "triage_car", "reason": "Caller now says he has climbed down."},
        headers=handler,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["decision"]["outcome"] == "police_and_triage"  # the rules' decision stays
    assert body["decision"]["overridden"] is True
    assert body["effective_outcome"] == "triage_car"
    assert body["override"]["reason"] == "Caller now says he has climbed down."
    assert body["override"]["police_attendance"] is False
    assert body["override"]["previous_outcome"] == "police_and_triage"

    by_supervisor = await client.post(
        url, json={"outcome": "police_and_triage"}, headers=supervisor
    )
    assert by_supervisor.status_code == 200
    assert [o["outcome"] for o in by_supervisor.json()["overrides"]] == [
        "triage_car",
        "police_and_triage",
    ]


async def test_override_unknown_incident_or_outcome(client, supervisor):
    missing = await client.post(
        "/api/v1/incidents/999999/override", json={"outcome": "triage_car"}, headers=supervisor
    )
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"
    created = (await client.post("/api/v1/incidents", json=incident(), headers=supervisor)).json()
    bad = await client.post(
        f"/api/v1/incidents/{created['id']}/override",
        json={"outcome": "arrest"},
        headers=supervisor,
    )
    assert bad.status_code == 422
    assert bad.json()["error"]["details"][0]["field"] == "outcome"


async def test_get_unknown_incident_is_404(client, handler):
    response = await client.get("/api/v1/incidents/424242", headers=handler)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


async def test_other_areas_incidents_are_not_disclosed(client, handler, make_user, admin):
    await client.post(
        "/api/v1/areas", json={"code": "notts", "name": "Nottinghamshire"}, headers=admin
    )
    created = (await client.post("/api/v1/incidents", json=incident(), headers=handler)).json()
    other = await make_user("call_handler", area="notts")
    assert (
        await client.get(f"/api/v1/incidents/{created['id']}", headers=other)
    ).status_code == 404
    listed = (await client.get("/api/v1/incidents", headers=other)).json()
    assert created["id"] not in {i["id"] for i in listed["items"]}
    cross = await client.post("/api/v1/incidents", json=incident(area="default"), headers=other)
    assert cross.status_code == 403


async def test_area_scope_routes_out_of_scope_to_police_standard(client, admin, make_user):
    await client.post(
        "/api/v1/areas",
        json={
            "code": "phase1",
            "name": "Phase 1 area",
            "rcrp_scope": {"categories": ["concern_for_welfare"], "min_age": 18},
        },
        headers=admin,
    )
    handler = await make_user("call_handler", area="phase1")
    body = incident(area="phase1", **{"risk.immediate_risk_to_life": False, "risk.suicidal": False})
    decision = (await client.post("/api/v1/incidents", json=body, headers=handler)).json()[
        "decision"
    ]
    assert decision["outcome"] == "police_standard"
    assert decision["reasons"][0]["rule"] == "T0"


async def test_create_audits_and_read_audits(client, handler, session):
    created = (await client.post("/api/v1/incidents", json=incident(), headers=handler)).json()
    await client.get(f"/api/v1/incidents/{created['id']}", headers=handler)
    await client.get("/api/v1/incidents", headers=handler)
    rows = list(
        await session.scalars(
            # Refused attempts (of earlier tests) are committed on connections of their own.
            select(AuditEntry).where(AuditEntry.outcome == "allowed").order_by(AuditEntry.id)
        )
    )
    actions = [(r.action, r.subject_id) for r in rows if r.subject_type == "incident"]
    assert ("incident.create", str(created["id"])) in actions
    assert ("incident.read", str(created["id"])) in actions
    listed = [r for r in rows if r.action == "incident.list"]
    assert created["id"] in listed[-1].detail["incident_ids"]
    assert all(r.actor_role == "call_handler" and r.request_id for r in rows)
