"""A breached clock becomes an escalation a supervisor must acknowledge, and it stays open after
the clock stops; open escalations are announced again by the worker until acknowledged."""

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from app.models import Escalation, Event
from app.services.clock_escalations import breach_detail, escalate_breaches
from app.workers import Workers
from tests.factories import incident
from tests.test_s136_api import ago, detention, record


@pytest.fixture
async def crew(make_user):
    return await make_user("crew", unit="TC1")


async def _place(client, supervisor, name, kind, under_18=True):
    r = await client.post(
        "/api/v1/places-of-safety",
        json={"name": name, "type": kind, "available_beds": 2, "accepts_under_18": under_18},
        headers=supervisor,
    )
    assert r.status_code == 201, r.text
    return r.json()["id"]


async def _arrived(client, handler, crew, place_id, minutes_ago, **changes):
    incident_id = (await client.post("/api/v1/incidents", json=incident(), headers=handler)).json()[
        "id"
    ]
    r = await record(client, incident_id, crew, detention(place_id, **changes))
    assert r.status_code == 201, r.text
    r = await client.post(
        f"/api/v1/incidents/{incident_id}/s136/arrived", json={"at": ago(minutes_ago)}, headers=crew
    )
    assert r.status_code == 200, r.text
    return incident_id


async def _open_breaches(client, supervisor):
    listed = (await client.get("/api/v1/escalations?state=open", headers=supervisor)).json()
    return [e for e in listed if e["reason"] == "clock_breached"]


async def test_breach_raises_one_escalation_that_outlives_the_handover(
    client, session, handler, supervisor, crew
):
    place = await _place(client, supervisor, "Highbury s136 suite", "health_based_place_of_safety")
    late = await _arrived(client, handler, crew, place, 70)  # breached when entered
    on_time = await _arrived(client, handler, crew, place, 10)

    assert await escalate_breaches(session=session) == 1
    await session.commit()
    assert await escalate_breaches(session=session) == 0  # once, however often the job runs
    breaches = await _open_breaches(client, supervisor)
    assert [(e["incident_id"], e["risk"]) for e in breaches] == [(late, "urgent")]
    detail = breaches[0]["detail"]
    assert detail == "Handover 60-minute limit passed at Highbury s136 suite (unit TC1)."
    raised = await session.scalars(
        select(Event).where(Event.type == "escalation.raised", Event.incident_id == late)
    )
    assert "clock_breached" in [e.data["reason"] for e in raised]

    # good news elsewhere, then the late handover itself: the breach is still someone's to own
    for incident_id in (on_time, late):
        r = await client.post(
            f"/api/v1/incidents/{incident_id}/s136/handover",
            json={"at": ago(1), "received_by": "Charge nurse Obi"},
            headers=crew,
        )
        assert r.status_code == 200, r.text
    assert await escalate_breaches(session=session) == 0
    assert [e["incident_id"] for e in await _open_breaches(client, supervisor)] == [late]

    r = await client.post(
        f"/api/v1/escalations/{breaches[0]['id']}/acknowledge",
        json={"action": "Spoke to the suite manager"},
        headers=supervisor,
    )
    assert r.status_code == 200, r.text
    assert r.json()["acknowledged_by"].startswith("supervisor-")
    assert await _open_breaches(client, supervisor) == []
    assert await escalate_breaches(session=session) == 0  # acknowledged is not raised again


async def test_missed_welfare_check_is_risk_to_life(client, session, handler, supervisor, crew):
    station = await _place(client, supervisor, "Bridewell custody", "police_station", False)
    incident_id = await _arrived(
        client,
        handler,
        crew,
        station,
        40,  # the 30-minute welfare check has passed
        authorised_by="Inspector Kaur 1234",
        police_station_reason="Imminent risk of serious injury; no HBPoS can hold",
    )
    await escalate_breaches(session=session)
    escalation = await session.scalar(
        select(Escalation).where(
            Escalation.incident_id == incident_id, Escalation.reason == "clock_breached"
        )
    )
    assert escalation is not None, "no escalation for the missed welfare check"
    assert escalation.risk == "immediate"
    assert escalation.detail.startswith("Welfare check 30-minute limit passed at Bridewell")


def test_breach_detail_names_the_limit_in_words():
    assert breach_detail("detention", 24 * 60, False, "Highbury", None) == (
        "Detention 24-hour limit passed at Highbury."
    )
    assert breach_detail("handover", 90, True, None, "TC2") == (
        "Handover agreed 90-minute limit passed (unit TC2)."
    )


async def test_workers_raise_breaches_and_repeat_open_escalations(
    client, session, sessionmaker, handler, supervisor, crew
):
    place = await _place(client, supervisor, "Highbury s136 suite", "health_based_place_of_safety")
    incident_id = await _arrived(client, handler, crew, place, 70)
    workers = Workers(sessionmaker, interval=60, event_retention=timedelta(days=1))
    assert await workers.run_once("clock-breaches") == 1
    # as if the repeat interval had passed with nobody acknowledging
    await session.execute(
        update(Escalation)
        .where(Escalation.incident_id == incident_id, Escalation.reason == "clock_breached")
        .values(next_announce_at=Escalation.raised_at - timedelta(seconds=1))
    )
    await session.commit()
    assert await workers.run_once("escalation-repeat") == 1
    repeated = await session.scalar(
        select(Event).where(Event.type == "escalation.repeated", Event.incident_id == incident_id)
    )
    assert repeated is not None and repeated.data["reason"] == "clock_breached"
    assert repeated.data["announced_count"] == 2
