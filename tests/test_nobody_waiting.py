"""Every incident has an owner until it is closed: hand-offs and closing, escalations owned until
acknowledged, offers only to connected crews, waiting incidents, stale jobs, overrides that stand
units down. The workers' jobs are called directly on the test's transaction (the database clock
is the transaction's, so "due" rows are made by moving their times into the past)."""

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, text, update

from app.models import Assignment, Escalation, Event, Incident
from app.services import dispatch, escalations
from tests.factories import incident

CAR = {"kind": "triage_car", "status": "available", "lat": 52.95, "lon": -1.15}
REFERRAL = incident(
    category="concern_for_welfare",
    **{
        "risk.immediate_risk_to_life": False,
        "risk.suicidal": False,
        "context.known_to_mh_services": False,
    },
)  # health_referral to NHS 111: no unit of ours goes
ADVICE_ONLY = incident(
    category="other",
    **{
        "risk.immediate_risk_to_life": False,
        "risk.suicidal": False,
        "context.known_to_mh_services": False,
    },
)  # no_police_action
TRIAGE = incident(**{"risk.immediate_risk_to_life": False})  # triage_car, urgent


async def add_car(client, supervisor, callsign="TC9", **changes):
    r = await client.post(
        "/api/v1/units", json={**CAR, "callsign": callsign, **changes}, headers=supervisor
    )
    assert r.status_code == 201, r.text


async def create(client, handler, body):
    r = await client.post("/api/v1/incidents", json=body, headers=handler)
    assert r.status_code == 201, r.text
    return r.json()


async def open_escalations(session, incident_id):
    return list(
        await session.scalars(
            select(Escalation).where(
                Escalation.incident_id == incident_id, Escalation.acknowledged_at.is_(None)
            )
        )
    )


# ---------------------------------------------------------------- the desk's hand-off task


async def test_referral_gives_the_desk_a_handoff_task_due_in_the_task_limit(client, handler):
    created = await create(client, handler, REFERRAL)
    assert created["decision"]["outcome"] == "health_referral"
    assert created["assignments"] == []
    step = created["next_step"]
    assert (step["action"], step["suggested_handoff"]) == ("handoff", "nhs_111")
    due = created["task_due_at"]
    assert due is not None and step["due_at"] == due
    made = datetime.fromisoformat(created["created_at"])
    assert datetime.fromisoformat(due) - made == timedelta(minutes=10)  # the area's default


async def test_handoff_then_close_as_referred(client, handler, session):
    created = await create(client, handler, REFERRAL)
    url = f"/api/v1/incidents/{created['id']}"
    passed = await client.post(
        f"{url}/handoff", json={"to": "nhs_111", "reference": "111-4471"}, headers=handler
    )
    assert passed.status_code == 201, passed.text
    body = passed.json()
    assert body["task_due_at"] is None
    assert [(h["to"], h["reference"]) for h in body["handoffs"]] == [("nhs_111", "111-4471")]
    assert body["next_step"]["action"] == "close"
    again = await client.post(
        f"{url}/handoff", json={"to": "nhs_111", "reference": "111-4471"}, headers=handler
    )
    assert again.status_code == 201 and len(again.json()["handoffs"]) == 1  # a retry
    closed = await client.post(f"{url}/close", json={"reason": "referred"}, headers=handler)
    assert closed.status_code == 200, closed.text
    body = closed.json()
    assert (body["status"], body["close_reason"]) == ("closed", "referred")
    assert body["closed_by"] and body["closed_at"] and body["next_step"]["action"] == "none"
    retry = await client.post(f"{url}/close", json={"reason": "referred"}, headers=handler)
    assert retry.status_code == 200
    other = await client.post(f"{url}/close", json={"reason": "duplicate"}, headers=handler)
    assert other.status_code == 409
    late = await client.post(f"{url}/handoff", json={"to": "police"}, headers=handler)
    assert late.status_code == 409


async def test_no_police_action_closes_in_one_action_as_advice_given(client, handler):
    created = await create(client, handler, ADVICE_ONLY)
    assert created["next_step"]["suggested_close_reason"] == "advice_given"
    closed = await client.post(
        f"/api/v1/incidents/{created['id']}/close",
        json={"reason": "advice_given"},
        headers=handler,
    )
    assert closed.status_code == 200 and closed.json()["status"] == "closed"


async def test_close_other_needs_a_note_and_bad_input_is_refused(client, handler, session):
    created = await create(client, handler, ADVICE_ONLY)
    url = f"/api/v1/incidents/{created['id']}/close"
    no_note = await client.post(url, json={"reason": "other"}, headers=handler)
    assert no_note.status_code == 422 and no_note.json()["error"]["details"][0]["field"] == "note"
    unknown = await client.post(url, json={"reason": "bored"}, headers=handler)
    assert unknown.status_code == 422
    bad_to = await client.post(
        f"/api/v1/incidents/{created['id']}/handoff", json={"to": "friend"}, headers=handler
    )
    assert bad_to.status_code == 422
    stored = await session.get(Incident, created["id"], populate_existing=True)
    assert stored.status == "open" and stored.closed_at is None


async def test_overdue_handoff_is_escalated_once_and_resolved_by_the_handoff(
    client, handler, session
):
    created = await create(client, handler, REFERRAL)
    await session.execute(
        update(Incident)
        .where(Incident.id == created["id"])
        .values(task_due_at=text("now() - interval '1 minute'"))
    )
    assert await dispatch.escalate_overdue_handoffs(session=session) == 1
    assert await dispatch.escalate_overdue_handoffs(session=session) == 0  # once
    await session.commit()
    [escalation] = await open_escalations(session, created["id"])
    assert escalation.reason == "handoff_overdue" and "NHS 111" in escalation.detail
    await client.post(
        f"/api/v1/incidents/{created['id']}/handoff", json={"to": "nhs_111"}, headers=handler
    )
    assert await open_escalations(session, created["id"]) == []
    await session.refresh(escalation)
    assert escalation.action.startswith("Passed to NHS 111")


async def test_close_is_refused_while_a_unit_has_it_and_withdraws_offers(
    client, handler, supervisor, make_user, connect, session
):
    await add_car(client, supervisor)
    await connect("TC9")
    crew = await make_user("crew", unit="TC9")
    created = await create(client, handler, TRIAGE)
    offer = created["assignments"][0]
    url = f"/api/v1/incidents/{created['id']}/close"
    accept = await client.post(f"/api/v1/assignments/{offer['id']}/accept", headers=crew)
    assert accept.status_code == 200
    refused = await client.post(url, json={"reason": "duplicate"}, headers=handler)
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "unit_on_incident"
    assert "TC9" in refused.json()["error"]["message"]

    second = await create(client, handler, TRIAGE)  # TC9 busy: waits
    assert second["next_step"]["action"] == "await_unit"
    closed = await client.post(
        f"/api/v1/incidents/{second['id']}/close", json={"reason": "duplicate"}, headers=handler
    )
    assert closed.status_code == 200
    assert await open_escalations(session, second["id"]) == []  # resolved by closing it
    waits = await session.scalar(
        text("SELECT count(*) FROM dispatch_waits WHERE incident_id = :i"), {"i": second["id"]}
    )
    assert waits == 0


async def test_closing_withdraws_a_live_offer(client, handler, supervisor, connect, session):
    await add_car(client, supervisor)
    await connect("TC9")
    created = await create(client, handler, TRIAGE)
    closed = await client.post(
        f"/api/v1/incidents/{created['id']}/close",
        json={"reason": "duplicate"},
        headers=handler,
    )
    assert closed.status_code == 200
    assert [a["status"] for a in closed.json()["assignments"]] == ["withdrawn"]
    units = (await client.get("/api/v1/units", headers=supervisor)).json()
    assert units[0]["active_assignments"] == 0


# ---------------------------------------------------------------- offers and presence


async def test_offers_go_only_to_a_unit_with_a_crew_connected(
    client, handler, supervisor, connect, session
):
    await add_car(client, supervisor, "NEAR", lat=52.94, lon=-1.14)  # nobody signed in
    await add_car(client, supervisor, "FAR", lat=53.30, lon=-1.60)
    await connect("FAR")
    created = await create(client, handler, incident())
    assert [a["unit"] for a in created["assignments"]] == ["FAR"]


async def test_with_no_connected_free_unit_it_escalates_at_once(
    client, handler, supervisor, session
):
    await add_car(client, supervisor)  # free, but no crew connected
    created = await create(client, handler, incident())
    assert created["assignments"] == []
    assert created["next_step"]["action"] == "await_unit"
    [escalation] = await open_escalations(session, created["id"])
    assert (escalation.reason, escalation.risk) == ("no_unit_available", "immediate")
    again = await create(client, handler, incident())
    assert len(await open_escalations(session, again["id"])) == 1


async def test_presence_lapses_after_the_window(client, handler, supervisor, connect, session):
    await add_car(client, supervisor)
    await connect("TC9")
    await session.execute(text("UPDATE unit_presence SET seen_at = now() - interval '31 seconds'"))
    await session.commit()
    created = await create(client, handler, incident())
    assert created["assignments"] == []


async def test_risk_to_life_offer_has_the_short_limit_and_is_flagged_urgent(
    client, handler, supervisor, connect, session
):
    await add_car(client, supervisor, "TC1")
    await add_car(client, supervisor, "TC2")
    await connect("TC1", "TC2")
    urgent = (await create(client, handler, incident()))["assignments"][0]
    routine = (await create(client, handler, TRIAGE))["assignments"][0]

    def limit(a):
        return datetime.fromisoformat(a["expires_at"]) - datetime.fromisoformat(a["offered_at"])

    assert limit(urgent) == timedelta(seconds=30)
    assert limit(routine) == timedelta(seconds=120)
    events = {
        e.data["assignment_id"]: e.data
        for e in await session.scalars(select(Event).where(Event.type == "assignment.offered"))
    }
    assert events[urgent["id"]]["urgent"] is True
    assert events[urgent["id"]]["risk_level"] == "immediate"
    assert events[routine["id"]]["urgent"] is False
    # A tablet that missed the event reads the same over REST.
    listed = (await client.get("/api/v1/assignments", headers=supervisor)).json()
    assert {a["id"]: a["urgent"] for a in listed} == {urgent["id"]: True, routine["id"]: False}


async def test_a_freed_unit_takes_the_oldest_highest_risk_waiting_incident(
    client, handler, supervisor, connect, make_user, session
):
    await add_car(client, supervisor)
    await connect("TC9")
    crew = await make_user("crew", unit="TC9")
    busy = await create(client, handler, TRIAGE)  # takes TC9
    routine_wait = await create(
        client,
        handler,
        incident(**{"risk.immediate_risk_to_life": False, "risk.suicidal": False}),
    )
    urgent_wait = await create(client, handler, incident())  # risk to life, created later
    for waiting in (routine_wait, urgent_wait):
        assert waiting["next_step"]["action"] == "await_unit"
    assert await dispatch.offer_waiting(session=session) == 0  # nobody free yet
    job = busy["assignments"][0]["id"]
    for status in ("accept", "status"):
        body = {"status": "cleared"} if status == "status" else None
        r = await client.post(f"/api/v1/assignments/{job}/{status}", json=body, headers=crew)
        assert r.status_code == 200, r.text
    assert await dispatch.offer_waiting(session=session) == 1
    await session.commit()
    offered = await session.scalar(
        select(Assignment.incident_id).where(Assignment.status == "offered")
    )
    assert offered == urgent_wait["id"]


async def test_a_declined_unit_is_not_offered_the_same_incident_again_at_once(
    client, handler, supervisor, connect, make_user, session
):
    await add_car(client, supervisor)
    await connect("TC9")
    crew = await make_user("crew", unit="TC9")
    created = await create(client, handler, TRIAGE)
    offer = created["assignments"][0]["id"]
    r = await client.post(
        f"/api/v1/assignments/{offer}/decline", json={"reason": "meal"}, headers=crew
    )
    assert r.status_code == 200
    [escalation] = await open_escalations(session, created["id"])
    assert escalation.reason == "no_unit_accepted"
    # The desk hears that it now waits, though its status did not change.
    latest = await session.scalar(
        select(Event)
        .where(Event.type == "incident.updated", Event.incident_id == created["id"])
        .order_by(Event.id.desc())
    )
    assert latest.data["next_step"]["action"] == "await_unit"
    assert await dispatch.offer_waiting(session=session) == 0  # cooling off
    await session.execute(
        update(Assignment)
        .where(Assignment.id == offer)
        .values(updated_at=text("now() - interval '3 minutes'"))
    )
    assert await dispatch.offer_waiting(session=session) == 1  # asked again later


# ---------------------------------------------------------------- escalations


async def test_escalation_repeats_until_acknowledged(client, handler, supervisor, session):
    created = await create(client, handler, incident())
    [escalation] = await open_escalations(session, created["id"])
    await session.execute(
        update(Escalation)
        .where(Escalation.id == escalation.id)
        .values(next_announce_at=text("now() - interval '1 second'"))
    )
    assert await escalations.announce_due(session=session) == 1
    await session.commit()
    await session.refresh(escalation)
    assert escalation.announced_count == 2
    repeated = await session.scalar(select(Event).where(Event.type == "escalation.repeated"))
    assert repeated.data["escalation_id"] == escalation.id

    listed = (await client.get("/api/v1/escalations", headers=supervisor)).json()
    assert [e["id"] for e in listed] == [escalation.id]
    assert listed[0]["risk"] == "immediate" and listed[0]["announced_count"] == 2
    url = f"/api/v1/escalations/{escalation.id}/acknowledge"
    assert (await client.post(url, json={"action": ""}, headers=supervisor)).status_code == 422
    assert (await client.post(url, json={"action": "x"}, headers=handler)).status_code == 403
    ack = await client.post(url, json={"action": "Asked TC3 to attend"}, headers=supervisor)
    assert ack.status_code == 200, ack.text
    assert ack.json()["acknowledged_by"] and ack.json()["action"] == "Asked TC3 to attend"
    assert (
        await client.post(url, json={"action": "Asked TC3 to attend"}, headers=supervisor)
    ).status_code == 200
    await session.execute(
        update(Escalation)
        .where(Escalation.id == escalation.id)
        .values(next_announce_at=text("now() - interval '1 second'"))
    )
    assert await escalations.announce_due(session=session) == 0  # owned: no more repeats
    assert (await client.get("/api/v1/escalations", headers=supervisor)).json() == []
    missing = await client.post(
        "/api/v1/escalations/999999/acknowledge", json={"action": "x"}, headers=supervisor
    )
    assert missing.status_code == 404


async def test_open_escalations_list_most_at_risk_first(client, handler, supervisor):
    routine = await create(
        client, handler, incident(**{"risk.immediate_risk_to_life": False, "risk.suicidal": False})
    )
    urgent = await create(client, handler, incident())
    listed = (await client.get("/api/v1/escalations", headers=supervisor)).json()
    assert [e["incident_id"] for e in listed] == [urgent["id"], routine["id"]]


async def test_a_unit_accepting_resolves_the_no_unit_escalation(
    client, handler, supervisor, connect, make_user, session
):
    created = await create(client, handler, TRIAGE)  # no car yet
    await add_car(client, supervisor)
    await connect("TC9")
    crew = await make_user("crew", unit="TC9")
    assert await dispatch.offer_waiting(session=session) == 1
    await session.commit()
    offer = await session.scalar(select(Assignment).where(Assignment.incident_id == created["id"]))
    await client.post(f"/api/v1/assignments/{offer.id}/accept", headers=crew)
    assert await open_escalations(session, created["id"]) == []
    resolved = await session.scalar(
        select(Escalation).where(Escalation.incident_id == created["id"])
    )
    assert resolved.action == "TC9 accepted the incident." and resolved.acknowledged_by_id


async def test_stale_job_is_escalated_and_resolved_when_it_moves(
    client, handler, supervisor, connect, make_user, session
):
    await add_car(client, supervisor)
    await connect("TC9")
    crew = await make_user("crew", unit="TC9")
    created = await create(client, handler, TRIAGE)
    job = created["assignments"][0]["id"]
    await client.post(f"/api/v1/assignments/{job}/accept", headers=crew)
    stored = await session.get(Assignment, job, populate_existing=True)
    assert stored.stale_at is not None  # watched from acceptance
    await session.execute(
        update(Assignment).where(Assignment.id == job).values(stale_at=text("now()"))
    )
    assert await dispatch.escalate_stale_jobs(session=session) == 1
    assert await dispatch.escalate_stale_jobs(session=session) == 0
    await session.commit()
    [escalation] = await open_escalations(session, created["id"])
    assert escalation.reason == "stale_job" and "TC9" in escalation.detail
    await client.post(
        f"/api/v1/assignments/{job}/status", json={"status": "en_route"}, headers=crew
    )
    assert await open_escalations(session, created["id"]) == []


# ---------------------------------------------------------------- overrides and units


async def test_override_to_no_unit_withdraws_the_offer_and_updates_the_caller_advice(
    client, handler, supervisor, connect, session
):
    await add_car(client, supervisor)
    await connect("TC9")
    created = await create(client, handler, incident())
    assert created["caller_advice"] == "Police are on their way with the street triage team."
    r = await client.post(
        f"/api/v1/incidents/{created['id']}/override",
        json={"outcome": "no_police_action", "reason": "Hoax call confirmed"},
        headers=handler,
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert [a["status"] for a in body["assignments"]] == ["withdrawn"]
    assert "will not attend" in body["caller_advice"]
    assert body["decision"]["caller_advice"] == created["caller_advice"]  # the rules' stands
    assert body["next_step"]["action"] == "close" and body["task_due_at"] is not None
    withdrawn = await session.scalar(
        select(Event)
        .where(Event.type == "assignment.updated", Event.incident_id == created["id"])
        .order_by(Event.id.desc())
    )
    assert withdrawn.data["status"] == "withdrawn" and withdrawn.unit_callsign == "TC9"
    updated = await session.scalar(
        select(Event)
        .where(Event.type == "incident.updated", Event.incident_id == created["id"])
        .order_by(Event.id.desc())
    )
    assert updated.data["caller_advice"] == body["caller_advice"]


async def test_override_that_needs_a_unit_dispatches_one(client, handler, supervisor, connect):
    await add_car(client, supervisor)
    await connect("TC9")
    created = await create(client, handler, REFERRAL)
    assert created["task_due_at"] is not None
    r = await client.post(
        f"/api/v1/incidents/{created['id']}/override",
        json={"outcome": "triage_car", "reason": "Caller now on the bridge"},
        headers=handler,
    )
    body = r.json()
    assert [a["unit"] for a in body["assignments"]] == ["TC9"]
    assert body["task_due_at"] is None and body["next_step"]["action"] == "await_acceptance"


@pytest.mark.parametrize("status", ["en_route", "on_scene"])
async def test_a_unit_with_a_job_cannot_become_available(
    client, handler, supervisor, connect, make_user, status
):
    await add_car(client, supervisor)
    await connect("TC9")
    crew = await make_user("crew", unit="TC9")
    created = await create(client, handler, TRIAGE)
    job = created["assignments"][0]["id"]
    await client.post(f"/api/v1/assignments/{job}/accept", headers=crew)
    await client.post(f"/api/v1/assignments/{job}/status", json={"status": status}, headers=crew)
    r = await client.patch("/api/v1/units/TC9", json={"status": "available"}, headers=crew)
    assert r.status_code == 409 and r.json()["error"]["code"] == "unit_has_job"
