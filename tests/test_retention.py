"""Retention: a closed incident's person data is pseudonymised after its area's retention period,
by a worker job, once across instances, audited; what the s136 return needs is kept."""

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text

from app import retention
from app.database import create_engine, create_sessionmaker
from app.models import (
    Assignment,
    AuditEntry,
    Detention,
    DetentionTransfer,
    Handoff,
    Incident,
    IncidentOverride,
)
from app.services.retention import pseudonymise_due
from tests.roles import as_app_role
from tests.world import ADVICE_CALL, act, add_place, add_unit, ago, detain, new_incident, offer_to

NOW = datetime(2026, 10, 25, 1, 30, tzinfo=UTC)  # the autumn clock change: UTC throughout


# --- the rules (pure) -------------------------------------------------------------------------


def test_due_after_the_full_period_from_closing():
    closed = NOW - timedelta(days=365)
    assert retention.is_due(closed, 365, NOW)
    assert not retention.is_due(closed + timedelta(seconds=1), 365, NOW)
    assert not retention.is_due(None, 365, NOW)  # still open: never


def test_the_person_keeps_only_what_does_not_identify_them():
    person = {
        "name": "Sam Example",
        "description": "man, 30s, red coat, tattoo of a swallow",
        "age": 34,
        "gender": "male",
        "language": "pl",
        "communication_needs": "Deaf, uses BSL",
    }
    assert retention.person(person) == {
        "name": retention.REMOVED,
        "description": retention.REMOVED,
        "communication_needs": retention.REMOVED,
        "age": 34,
        "gender": "male",
        "language": "pl",
    }
    # Nothing given stays nothing given; an unknown text field is replaced too.
    assert retention.person({"name": None, "age": None, "nickname": "Spike"}) == {
        "name": None,
        "age": None,
        "nickname": retention.REMOVED,
    }
    assert retention.caller({"name": "PC Ahmed", "role": "PC 1234", "phone": None}) == {
        "name": retention.REMOVED,
        "role": retention.REMOVED,
        "phone": None,
    }
    assert retention.caller(None) == {}
    assert retention.replaced("") == retention.REMOVED and retention.replaced(None) is None


# --- the worker, through the database ---------------------------------------------------------


async def closed_incident_with_everything(client, handler, supervisor, make_user, connect):
    """An advice call answered, with an override, a hand-off and a detention, then closed."""
    await add_unit(client, supervisor, "DESK1", kind="nurse_desk")
    await connect("DESK1")
    nurse = await make_user("nurse", unit="DESK1")
    crew = await make_user("crew", unit="TC1")
    place, other_place = await add_place(client, supervisor), await add_place(client, supervisor)
    created = await new_incident(
        client,
        handler,
        **ADVICE_CALL,
        **{"person.name": "Sam Example", "location.description": "14 Acacia Avenue"},
    )
    incident_id = created["id"]
    job = offer_to(created, "DESK1")
    await act(client, nurse, job, "accept")
    r = await client.post(
        f"/api/v1/incidents/{incident_id}/handoff",
        json={"to": "health_provider", "reference": "CMHT-4471"},
        headers=handler,
    )
    assert r.status_code == 201, r.text
    r = await client.post(
        f"/api/v1/incidents/{incident_id}/override",
        json={"outcome": "nurse_advice", "reason": "Sam's GP asked for the nurse"},
        headers=handler,
    )
    assert r.status_code == 200, r.text
    await detain(client, crew, incident_id, place, arrived=True)
    r = await client.post(
        f"/api/v1/incidents/{incident_id}/s136/transfer",
        json={"at": ago(20), "place_of_safety_id": other_place, "reason": "Sam asked to move"},
        headers=crew,
    )
    assert r.status_code == 200, r.text
    r = await client.post(
        f"/api/v1/incidents/{incident_id}/s136/outcome",
        json={"at": ago(1), "outcome": "admitted_informally"},
        headers=crew,
    )
    assert r.status_code == 200, r.text
    # The advice clears the desk's job, which closes the incident.
    await act(client, nurse, job, "advice", {"advice": "Sam is known to CMHT", "s136_used": True})
    return incident_id


async def age_closing(session, incident_id: int, days: int) -> None:
    await session.execute(
        text(
            "UPDATE incidents SET status = 'closed', close_reason = 'other',"
            " close_note = 'Sam is safe with family', closed_at = now() - make_interval(days => :d)"
            " WHERE id = :id"
        ),
        {"id": incident_id, "d": days},
    )
    await session.commit()


async def test_the_worker_pseudonymises_what_identifies_and_keeps_the_return(
    client, handler, supervisor, make_user, connect, session
):
    incident_id = await closed_incident_with_everything(
        client, handler, supervisor, make_user, connect
    )
    before = (await client.get("/api/v1/reports/s136", headers=supervisor)).json()
    recent = await new_incident(client, handler, **{"person.name": "Alex Recent"})
    await age_closing(session, recent["id"], 364)  # a day short of the default 365
    await age_closing(session, incident_id, 366)

    assert await pseudonymise_due(session=session) == 1
    await session.commit()
    assert await pseudonymise_due(session=session) == 0  # once

    incident = await session.get_one(Incident, incident_id, populate_existing=True)
    assert incident.pseudonymised_at is not None
    assert incident.person["name"] == retention.REMOVED and incident.person["age"] == 34
    assert incident.caller == {
        "name": retention.REMOVED,
        "role": retention.REMOVED,
        "phone": retention.REMOVED,
    }
    assert incident.location_description == retention.REMOVED
    assert incident.lat is None and incident.lon is None
    assert incident.circumstances == retention.REMOVED
    assert incident.close_note == retention.REMOVED
    assert incident.location_kind == "public_place" and incident.category  # kept
    overrides = await session.scalars(
        select(IncidentOverride.reason).where(IncidentOverride.incident_id == incident_id)
    )
    assert set(overrides) == {retention.REMOVED}
    handoffs = await session.scalars(
        select(Handoff.reference).where(Handoff.incident_id == incident_id)
    )
    assert set(handoffs) == {retention.REMOVED}
    advice = await session.scalars(
        select(Assignment.advice).where(Assignment.incident_id == incident_id)
    )
    assert set(advice) == {retention.REMOVED}
    detention = await session.scalar(
        select(Detention)
        .where(Detention.incident_id == incident_id)
        .execution_options(populate_existing=True)
    )
    assert (detention.person_age, detention.person_gender, detention.person_ethnicity) == (
        34,
        "female",
        "white",
    )
    reasons = await session.scalars(
        select(DetentionTransfer.reason).where(DetentionTransfer.detention_id == detention.id)
    )
    assert list(reasons) == [retention.REMOVED]
    # The s136 return is unchanged by it.
    after = (await client.get("/api/v1/reports/s136", headers=supervisor)).json()
    assert after["totals"] == before["totals"]
    # The incident a day short of its period is untouched; each one done is audited.
    untouched = await session.get_one(Incident, recent["id"], populate_existing=True)
    assert untouched.person["name"] == "Alex Recent" and untouched.pseudonymised_at is None
    row = await session.scalar(
        select(AuditEntry).where(
            AuditEntry.action == "incident.pseudonymise",
            AuditEntry.subject_id == str(incident_id),
        )
    )
    assert row is not None and row.actor_role == "system" and row.detail["retention_days"] == 365
    # Every text that named Sam is gone from the record.
    record = (await client.get(f"/api/v1/incidents/{incident_id}", headers=supervisor)).text
    assert "Sam" not in record and "Acacia" not in record and "CMHT-4471" not in record


async def test_the_areas_retention_period_decides(client, handler, admin, session):
    created = await new_incident(client, handler, **{"person.name": "Jo Short"})
    await age_closing(session, created["id"], 40)
    assert await pseudonymise_due(session=session) == 0
    r = await client.patch("/api/v1/areas/default", json={"retention_days": 30}, headers=admin)
    assert r.status_code == 200 and r.json()["retention_days"] == 30
    too_short = await client.patch(
        "/api/v1/areas/default", json={"retention_days": 1}, headers=admin
    )
    assert too_short.status_code == 422
    assert await pseudonymise_due(session=session) == 1


@pytest.fixture
async def two_instances(live_database):
    engine = create_engine(as_app_role(live_database), pool_size=2)
    try:
        yield create_sessionmaker(engine)
    finally:
        await engine.dispose()


async def test_two_instances_pseudonymise_each_incident_once(two_instances, live_database):
    """Two workers at once (SKIP LOCKED): each incident is claimed by one, and audited once."""
    sessionmaker = two_instances
    async with sessionmaker() as session, session.begin():
        user = await session.scalar(
            text(
                "INSERT INTO users (username, password_hash, role, area_id, active)"
                " VALUES ('ch', 'x', 'call_handler', 1, true) RETURNING id"
            )
        )
        for n in range(6):
            await session.execute(
                text(
                    "INSERT INTO incidents (area_id, source, category, reported_at,"
                    " location_description, location_kind, person, circumstances, caller, risk,"
                    " context, status, decision, effective_outcome, caller_advice, closed_at,"
                    " created_by_id, updated_by_id)"
                    " VALUES (1, 'police_999', 'other', now(), 'somewhere', 'public_place',"
                    " :person, 'text', '{}', '{}', '{}', 'closed', '{}', 'no_police_action',"
                    " 'x', now() - interval '400 days', :u, :u)"
                ),
                {"person": f'{{"name": "Person {n}"}}', "u": user},
            )
    first = sessionmaker()
    second = sessionmaker()
    try:
        await first.begin()
        claimed_first = await pseudonymise_due(session=first, limit=3)
        await second.begin()
        claimed_second = await asyncio.wait_for(pseudonymise_due(session=second, limit=10), 10)
        await first.commit()
        await second.commit()
    finally:
        await first.close()
        await second.close()
    assert (claimed_first, claimed_second) == (3, 3)
    async with sessionmaker() as session:
        audited = list(
            await session.scalars(
                select(AuditEntry.subject_id).where(AuditEntry.action == "incident.pseudonymise")
            )
        )
        remaining = await session.scalar(
            text("SELECT count(*) FROM incidents WHERE pseudonymised_at IS NULL")
        )
    assert len(audited) == len(set(audited)) == 6 and remaining == 0
