"""Section 136 recording under S1–S8 and the clocks, through the HTTP API (in process)."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from app.models import Area, AuditEntry, Clock, Detention, DetentionTransfer, Event
from app.services.detention_clocks import fire_due_clocks
from tests.factories import incident


def ago(minutes: float) -> str:
    return (datetime.now(UTC) - timedelta(minutes=minutes)).isoformat()


@pytest.fixture
async def crew(make_user):
    return await make_user("crew", unit="TC1")


@pytest.fixture
async def places(client, supervisor):
    made = {}
    for name, kind, under_18, exclusions in (
        ("Highbury s136 suite", "health_based_place_of_safety", True, "No medically unwell people"),
        ("QMC Emergency Department", "emergency_department", True, None),
        ("Bridewell custody", "police_station", False, None),
    ):
        r = await client.post(
            "/api/v1/places-of-safety",
            json={
                "name": name,
                "type": kind,
                "available_beds": 2,
                "accepts_under_18": under_18,
                "exclusions": exclusions,
            },
            headers=supervisor,
        )
        assert r.status_code == 201, r.text
        made[kind] = r.json()
    return made


@pytest.fixture
async def incident_id(client, handler):
    return (await client.post("/api/v1/incidents", json=incident(), headers=handler)).json()["id"]


def detention(place_id=None, **changes):
    body = {
        "power": "s136",
        "detained_at": ago(90),
        "consulted": {"who": "mh_nurse", "at": ago(95)},
        "not_consulted_reason": None,
        "place_of_safety_id": place_id,
        "police_station_reason": None,
        "authorised_by": None,
        "vehicle": "ambulance",
        "ambulance_requested": None,
        "police_vehicle_reason": None,
        "person": {"age": 34, "gender": "female", "ethnicity": "white"},
    }
    body.update(changes)
    return body


async def record(client, incident_id, headers, body):
    return await client.post(f"/api/v1/incidents/{incident_id}/s136", json=body, headers=headers)


async def events_of(session, incident_id, prefix=""):
    rows = await session.scalars(
        select(Event).where(Event.incident_id == incident_id).order_by(Event.id)
    )
    return [e for e in rows if e.type.startswith(prefix)]


def field_of(response):
    return [d["field"] for d in response.json()["error"]["details"]]


async def test_s1_consultation_or_reason_required(client, crew, places, incident_id):
    place = places["health_based_place_of_safety"]["id"]
    missing = await record(client, incident_id, crew, detention(place, consulted=None))
    assert missing.status_code == 422 and field_of(missing) == ["consulted"]
    after = await record(
        client, incident_id, crew, detention(place, consulted={"who": "doctor", "at": ago(10)})
    )
    assert after.status_code == 422 and "consulted.at" in field_of(after), after.text
    bad_who = await record(
        client, incident_id, crew, detention(place, consulted={"who": "friend", "at": ago(95)})
    )
    assert bad_who.status_code == 422
    reason = await record(
        client,
        incident_id,
        crew,
        detention(place, consulted=None, not_consulted_reason="Person running towards the road"),
    )
    assert reason.status_code == 201, reason.text
    assert reason.json()["consulted"] is None
    assert reason.json()["not_consulted_reason"] == "Person running towards the road"


async def test_s1_consultation_recorded(client, crew, places, incident_id):
    r = await record(client, incident_id, crew, detention(places["emergency_department"]["id"]))
    assert r.status_code == 201
    body = r.json()
    assert body["consulted"]["who"] == "mh_nurse" and body["unit"] == "TC1"
    assert body["place_type"] == "emergency_department" and body["review_required"] is False


async def test_s3_never_a_police_station_for_under_18(client, crew, places, incident_id):
    station = places["police_station"]["id"]
    body = detention(
        station,
        police_station_reason="imminent risk",
        authorised_by="Insp Kaur",
        person={"age": 16, "gender": "male", "ethnicity": "asian"},
    )
    r = await record(client, incident_id, crew, body)
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "police_station_under_18"
    assert "under 18" in r.json()["error"]["message"]
    assert field_of(r) == ["place_of_safety_id"]


async def test_s3_uses_the_incident_age_when_not_given(client, crew, handler, places):
    child = (
        await client.post("/api/v1/incidents", json=incident(**{"person.age": 15}), headers=handler)
    ).json()["id"]
    body = detention(
        places["police_station"]["id"],
        police_station_reason="r",
        authorised_by="Insp A",
        person={"gender": "male", "ethnicity": "white"},
    )
    assert (await record(client, child, crew, body)).status_code == 422


async def test_s3_refused_when_chosen_at_arrival(client, crew, places, incident_id):
    body = detention(None, person={"age": 12, "gender": "female", "ethnicity": "black"})
    assert (await record(client, incident_id, crew, body)).status_code == 201
    r = await client.post(
        f"/api/v1/incidents/{incident_id}/s136/arrived",
        json={"at": ago(5), "place_of_safety_id": places["police_station"]["id"]},
        headers=crew,
    )
    assert r.status_code == 422 and r.json()["error"]["code"] == "police_station_under_18"


async def test_s4_police_station_needs_authority_and_is_flagged(
    client, crew, places, incident_id, session
):
    station = places["police_station"]["id"]
    r = await record(client, incident_id, crew, detention(station))
    assert r.status_code == 422 and r.json()["error"]["code"] == "police_station_needs_authority"
    # every refusal is listed, each naming its rule
    assert field_of(r) == ["police_station_reason", "authorised_by"]
    assert {d["rule"] for d in r.json()["error"]["details"]} == {"S4"}
    r = await record(client, incident_id, crew, detention(station, police_station_reason="x"))
    assert field_of(r) == ["authorised_by"]
    ok = await record(
        client,
        incident_id,
        crew,
        detention(
            station,
            police_station_reason="Imminent risk of serious injury; no HBPoS can hold",
            authorised_by="Inspector Kaur 1234",
        ),
    )
    assert ok.status_code == 201 and ok.json()["review_required"] is True
    arrived = await client.post(
        f"/api/v1/incidents/{incident_id}/s136/arrived", json={"at": ago(40)}, headers=crew
    )
    kinds = {c["kind"]: c for c in arrived.json()["clocks"]}
    assert kinds["welfare_check"]["goal_minutes"] == 30
    assert kinds["welfare_check"]["state"] == "breached"  # 40 min without a check
    checked = await client.post(
        f"/api/v1/incidents/{incident_id}/s136/welfare-check",
        json={"at": ago(1), "by": "FME Dr Jones"},
        headers=crew,
    )
    kinds = {c["kind"]: c for c in checked.json()["clocks"]}
    assert kinds["welfare_check"]["state"] == "waiting"
    types = [e.type for e in await events_of(session, incident_id, "welfare_check")]
    assert types == [
        "welfare_check.started",
        "welfare_check.warning",
        "welfare_check.breached",
        "welfare_check.started",
    ]


async def test_s5_exclusions_are_shown_not_used_to_filter(client, crew, places):
    listed = (await client.get("/api/v1/places-of-safety", headers=crew)).json()
    suite = next(p for p in listed if p["type"] == "health_based_place_of_safety")
    assert suite["exclusions"] == "No medically unwell people"
    assert len(listed) == 3


async def test_s6_police_vehicle_needs_reasons(client, crew, places, incident_id):
    place = places["health_based_place_of_safety"]["id"]
    r = await record(client, incident_id, crew, detention(place, vehicle="police_vehicle"))
    assert r.status_code == 422
    assert field_of(r) == ["ambulance_requested", "police_vehicle_reason"]
    r = await record(
        client,
        incident_id,
        crew,
        detention(place, vehicle="police_vehicle", ambulance_requested=True),
    )
    assert field_of(r) == ["police_vehicle_reason"]
    r = await record(client, incident_id, crew, detention(place, vehicle="caged_van"))
    assert r.status_code == 422 and field_of(r) == ["vehicle"]
    ok = await record(
        client,
        incident_id,
        crew,
        detention(
            place,
            vehicle="police_vehicle",
            ambulance_requested=True,
            police_vehicle_reason="No ambulance available within 30 minutes",
        ),
    )
    assert ok.status_code == 201 and ok.json()["ambulance_requested"] is True


async def test_times_in_future_and_out_of_order_are_refused(client, crew, places, incident_id):
    future = (datetime.now(UTC) + timedelta(minutes=5)).isoformat()
    place = places["health_based_place_of_safety"]["id"]
    r = await record(client, incident_id, crew, detention(place, detained_at=future))
    assert r.status_code == 422 and r.json()["error"]["code"] == "time_in_future"
    assert (await record(client, incident_id, crew, detention(place))).status_code == 201
    url = f"/api/v1/incidents/{incident_id}/s136"
    early = await client.post(
        f"{url}/handover", json={"at": ago(5), "received_by": "RMN"}, headers=crew
    )
    assert early.status_code == 422 and early.json()["error"]["code"] == "handover_before_arrival"
    before_detention = await client.post(f"{url}/arrived", json={"at": ago(100)}, headers=crew)
    assert before_detention.status_code == 422
    assert (
        await client.post(f"{url}/arrived", json={"at": future}, headers=crew)
    ).status_code == 422
    assert (
        await client.post(f"{url}/arrived", json={"at": ago(30)}, headers=crew)
    ).status_code == 200
    before_arrival = await client.post(
        f"{url}/handover", json={"at": ago(31), "received_by": "RMN"}, headers=crew
    )
    assert (
        before_arrival.status_code == 422
        and before_arrival.json()["error"]["code"] == "time_out_of_order"
    )


async def test_late_arrival_announces_passed_thresholds_at_once_in_order(
    client, crew, places, incident_id, session
):
    await record(client, incident_id, crew, detention(places["health_based_place_of_safety"]["id"]))
    r = await client.post(
        f"/api/v1/incidents/{incident_id}/s136/arrived", json={"at": ago(70)}, headers=crew
    )
    assert r.status_code == 200, r.text
    handover = next(c for c in r.json()["clocks"] if c["kind"] == "handover")
    assert handover["state"] == "breached" and handover["elapsed_minutes"] in (69, 70)
    types = [e.type for e in await events_of(session, incident_id, "handover")]
    assert types == ["handover.started", "handover.warning", "handover.breached"]
    breached = (await events_of(session, incident_id, "handover.breached"))[0]
    assert breached.data["clock"] == "handover" and breached.data["goal_minutes"] == 60
    # the worker has nothing left to announce
    assert await fire_due_clocks(session=session) == 0
    again = [e.type for e in await events_of(session, incident_id, "handover")]
    assert again == types


async def test_handover_within_goal_and_missed(client, crew, places, handler, session):
    place = places["health_based_place_of_safety"]["id"]
    results = {}
    for label, arrived, handed in (("met", 50, 5), ("missed", 80, 5)):
        iid = (await client.post("/api/v1/incidents", json=incident(), headers=handler)).json()[
            "id"
        ]
        await record(client, iid, crew, detention(place))
        await client.post(
            f"/api/v1/incidents/{iid}/s136/arrived", json={"at": ago(arrived)}, headers=crew
        )
        r = await client.post(
            f"/api/v1/incidents/{iid}/s136/handover",
            json={"at": ago(handed), "received_by": "Charge nurse Obi"},
            headers=crew,
        )
        assert r.status_code == 200, r.text
        results[label] = next(c for c in r.json()["clocks"] if c["kind"] == "handover")
        completed = await events_of(session, iid, "handover.completed")
        assert len(completed) == 1 and completed[0].data["within_goal"] == (label == "met")
    assert results["met"]["state"] == "handed_over" and results["met"]["within_goal"] is True
    assert results["met"]["outcome"] == "met"
    assert results["missed"]["within_goal"] is False and results["missed"]["outcome"] == "missed"


async def test_retried_handover_is_idempotent_and_a_different_time_conflicts(
    client, crew, places, incident_id, session
):
    await record(client, incident_id, crew, detention(places["emergency_department"]["id"]))
    url = f"/api/v1/incidents/{incident_id}/s136"
    await client.post(f"{url}/arrived", json={"at": ago(20)}, headers=crew)
    body = {"at": ago(2), "received_by": "Sister Lee"}
    first = await client.post(f"{url}/handover", json=body, headers=crew)
    again = await client.post(f"{url}/handover", json=body, headers=crew)
    assert first.status_code == again.status_code == 200
    assert len(await events_of(session, incident_id, "handover.completed")) == 1
    other = await client.post(
        f"{url}/handover", json={"at": ago(3), "received_by": "x"}, headers=crew
    )
    assert other.status_code == 409


async def test_agreed_longer_handover_is_reported_as_agreed(client, crew, places, incident_id):
    await record(client, incident_id, crew, detention(places["emergency_department"]["id"]))
    url = f"/api/v1/incidents/{incident_id}/s136"
    await client.post(f"{url}/arrived", json={"at": ago(55)}, headers=crew)
    shorter = await client.post(
        f"{url}/handover-agreement",
        json={"goal_minutes": 30, "agreed_by": "x", "reason": "y"},
        headers=crew,
    )
    assert shorter.status_code == 422
    agreed = await client.post(
        f"{url}/handover-agreement",
        json={
            "goal_minutes": 90,
            "agreed_by": "ED nurse in charge Patel",
            "reason": "Resus occupied",
        },
        headers=crew,
    )
    clock = next(c for c in agreed.json()["clocks"] if c["kind"] == "handover")
    assert clock["goal_minutes"] == 90 and clock["agreed"] is True and clock["state"] == "waiting"
    done = await client.post(
        f"{url}/handover", json={"at": ago(1), "received_by": "RN"}, headers=crew
    )
    clock = next(c for c in done.json()["clocks"] if c["kind"] == "handover")
    assert clock["within_goal"] is True and clock["outcome"] == "agreed"


async def test_area_goal_change_applies_to_clocks_started_afterwards(
    client, crew, places, handler, admin, supervisor
):
    place = places["health_based_place_of_safety"]["id"]
    first = (await client.post("/api/v1/incidents", json=incident(), headers=handler)).json()["id"]
    await record(client, first, crew, detention(place))
    await client.post(f"/api/v1/incidents/{first}/s136/arrived", json={"at": ago(10)}, headers=crew)
    await client.patch(
        "/api/v1/areas/default",
        json={"handover_goal_minutes": 90, "handover_warning_minutes": 75},
        headers=admin,
    )
    second = (await client.post("/api/v1/incidents", json=incident(), headers=handler)).json()["id"]
    await record(client, second, crew, detention(place))
    await client.post(
        f"/api/v1/incidents/{second}/s136/arrived", json={"at": ago(10)}, headers=crew
    )
    board = (await client.get("/api/v1/handovers?state=open", headers=supervisor)).json()
    goals = {row["incident_id"]: row["goal_minutes"] for row in board}
    assert goals[first] == 60 and goals[second] == 90


async def test_no_handover_clock_where_the_area_sets_none(client, crew, places, incident_id, admin):
    r = await client.patch(
        "/api/v1/areas/default",
        json={"handover_goals_by_place_type": {"emergency_department": None}},
        headers=admin,
    )
    assert r.status_code == 200, r.text
    await record(client, incident_id, crew, detention(places["emergency_department"]["id"]))
    arrived = await client.post(
        f"/api/v1/incidents/{incident_id}/s136/arrived", json={"at": ago(10)}, headers=crew
    )
    assert {c["kind"] for c in arrived.json()["clocks"]} == {"assessment", "detention"}


async def test_s7_assessment_clock(client, crew, places, incident_id, session):
    await record(
        client,
        incident_id,
        crew,
        detention(
            places["health_based_place_of_safety"]["id"],
            detained_at=ago(200),
            consulted={"who": "amhp", "at": ago(205)},
        ),
    )
    url = f"/api/v1/incidents/{incident_id}/s136"
    arrived = await client.post(f"{url}/arrived", json={"at": ago(170)}, headers=crew)
    assert arrived.status_code == 200, arrived.text
    assessment = next(c for c in arrived.json()["clocks"] if c["kind"] == "assessment")
    assert assessment["goal_minutes"] == 180 and assessment["state"] == "warning"
    done = await client.post(f"{url}/assessment", json={"at": ago(2)}, headers=crew)
    assessment = next(c for c in done.json()["clocks"] if c["kind"] == "assessment")
    assert assessment["state"] == "stopped" and assessment["within_goal"] is True


async def test_s2_detention_limit_and_extension(client, crew, places, incident_id):
    await record(
        client,
        incident_id,
        crew,
        detention(
            places["health_based_place_of_safety"]["id"],
            detained_at=ago(23 * 60),
            consulted={"who": "doctor", "at": ago(23 * 60 + 5)},
        ),
    )
    url = f"/api/v1/incidents/{incident_id}/s136"
    arrived = await client.post(f"{url}/arrived", json={"at": ago(22 * 60 + 30)}, headers=crew)
    limit = next(c for c in arrived.json()["clocks"] if c["kind"] == "detention")
    assert limit["goal_minutes"] == 24 * 60 and limit["state"] == "warning"
    too_long = await client.post(
        f"{url}/extension",
        json={"at": ago(1), "hours": 13, "doctor": "Dr Shah", "reason": "intoxicated"},
        headers=crew,
    )
    assert too_long.status_code == 422
    ok = await client.post(
        f"{url}/extension",
        json={"at": ago(1), "hours": 8, "doctor": "Dr Shah", "reason": "Too intoxicated to assess"},
        headers=crew,
    )
    assert ok.status_code == 200, ok.text
    limit = next(c for c in ok.json()["clocks"] if c["kind"] == "detention")
    assert limit["goal_minutes"] == 32 * 60 and limit["state"] == "waiting"
    assert ok.json()["extension_hours"] == 8
    more = await client.post(
        f"{url}/extension",
        json={"at": ago(0.5), "hours": 5, "doctor": "Dr Shah", "reason": "still"},
        headers=crew,
    )
    assert more.status_code == 422  # 12 hours in all at most


async def test_s2_extension_refused_after_expiry_and_at_station_without_superintendent(
    client, crew, places, handler
):
    expired = (await client.post("/api/v1/incidents", json=incident(), headers=handler)).json()[
        "id"
    ]
    await record(
        client,
        expired,
        crew,
        detention(
            places["health_based_place_of_safety"]["id"],
            detained_at=ago(26 * 60),
            consulted={"who": "doctor", "at": ago(26 * 60 + 5)},
        ),
    )
    await client.post(
        f"/api/v1/incidents/{expired}/s136/arrived", json={"at": ago(25 * 60)}, headers=crew
    )
    late = await client.post(
        f"/api/v1/incidents/{expired}/s136/extension",
        json={"at": ago(1), "hours": 2, "doctor": "Dr A", "reason": "r"},
        headers=crew,
    )
    assert late.status_code == 422 and "expired" in late.json()["error"]["message"]
    station = (await client.post("/api/v1/incidents", json=incident(), headers=handler)).json()[
        "id"
    ]
    await record(
        client,
        station,
        crew,
        detention(
            places["police_station"]["id"], police_station_reason="risk", authorised_by="Insp B"
        ),
    )
    await client.post(
        f"/api/v1/incidents/{station}/s136/arrived", json={"at": ago(60)}, headers=crew
    )
    no_super = await client.post(
        f"/api/v1/incidents/{station}/s136/extension",
        json={"at": ago(1), "hours": 2, "doctor": "Dr A", "reason": "r"},
        headers=crew,
    )
    assert no_super.status_code == 422 and field_of(no_super) == ["superintendent"]


async def test_worker_announces_each_threshold_once(client, crew, places, incident_id, session):
    await record(client, incident_id, crew, detention(places["health_based_place_of_safety"]["id"]))
    await client.post(
        f"/api/v1/incidents/{incident_id}/s136/arrived", json={"at": ago(30)}, headers=crew
    )
    clock = await session.scalar(
        select(Clock).where(Clock.incident_id == incident_id, Clock.kind == "handover")
    )
    # as if 20 minutes passed with nobody looking: make the warning due now
    clock.started_at = clock.started_at - timedelta(minutes=20)
    clock.next_due_at = clock.started_at + timedelta(minutes=45)
    await session.commit()
    assert await fire_due_clocks(session=session) >= 1
    await session.commit()
    await fire_due_clocks(session=session)
    await session.commit()
    types = [e.type for e in await events_of(session, incident_id, "handover")]
    assert types == ["handover.started", "handover.warning"]


async def test_outcome_stops_every_clock(client, crew, places, incident_id):
    await record(client, incident_id, crew, detention(places["health_based_place_of_safety"]["id"]))
    url = f"/api/v1/incidents/{incident_id}/s136"
    await client.post(f"{url}/arrived", json={"at": ago(40)}, headers=crew)
    r = await client.post(
        f"{url}/outcome", json={"at": ago(1), "outcome": "detained_s2"}, headers=crew
    )
    assert r.status_code == 200, r.text
    assert r.json()["outcome"] == "detained_s2"
    assert all(c["stopped_at"] for c in r.json()["clocks"])
    bad = await client.post(
        f"{url}/outcome", json={"at": ago(1), "outcome": "arrested"}, headers=crew
    )
    assert bad.status_code == 422


async def test_handover_board_shape(client, crew, places, incident_id, supervisor):
    await record(client, incident_id, crew, detention(places["health_based_place_of_safety"]["id"]))
    await client.post(
        f"/api/v1/incidents/{incident_id}/s136/arrived", json={"at": ago(47)}, headers=crew
    )
    board = (await client.get("/api/v1/handovers?state=open", headers=supervisor)).json()
    row = next(r for r in board if r["incident_id"] == incident_id)
    assert row["place_of_safety"] == "Highbury s136 suite" and row["state"] == "warning"
    assert row["goal_minutes"] == 60 and row["within_goal"] is None
    assert row["elapsed_minutes"] in (46, 47)
    for key in ("arrived_at", "deadline_at", "place_of_safety_id", "unit"):
        assert key in row


async def test_roles_for_s136(client, places, incident_id, make_user):
    body = detention(places["health_based_place_of_safety"]["id"])
    for role in ("call_handler", "nurse", "admin"):
        r = await record(client, incident_id, await make_user(role), body)
        assert r.status_code == 403
    other_crew = await make_user("crew", unit="TC2")
    own = await make_user("crew", unit="TC1")
    assert (await record(client, incident_id, own, body)).status_code == 201
    r = await client.post(
        f"/api/v1/incidents/{incident_id}/s136/arrived", json={"at": ago(5)}, headers=other_crew
    )
    # Issue 9: another unit's detention answers as if there were none (need to know).
    assert r.status_code == 404


# --- issue 8: the law where the review found gaps ---------------------------------------------


async def new_incident(client, handler, **changes) -> int:
    r = await client.post("/api/v1/incidents", json=incident(**changes), headers=handler)
    assert r.status_code == 201, r.text
    return r.json()["id"]


async def add_place(client, supervisor, name, kind, *, under_18=False, beds=1) -> int:
    r = await client.post(
        "/api/v1/places-of-safety",
        json={"name": name, "type": kind, "available_beds": beds, "accepts_under_18": under_18},
        headers=supervisor,
    )
    assert r.status_code == 201, r.text
    return r.json()["id"]


async def detention_rows(session, incident_id):
    return list(
        await session.scalars(select(Detention).where(Detention.incident_id == incident_id))
    )


async def audit_actions(session, incident_id):
    rows = await session.scalars(
        select(AuditEntry.action).where(
            AuditEntry.subject_type == "incident", AuditEntry.subject_id == str(incident_id)
        )
    )
    return list(rows)


def refusals_of(response):
    return [(d["rule"], d["field"]) for d in response.json()["error"]["details"]]


async def open_escalations(client, supervisor, reason=None):
    rows = (await client.get("/api/v1/escalations?state=open", headers=supervisor)).json()
    return [e for e in rows if reason is None or e["reason"] == reason]


async def test_s9_s136_in_a_private_dwelling_is_refused_and_nothing_written(
    client, crew, handler, places, session
):
    home = await new_incident(client, handler, **{"location.kind": "private_dwelling"})
    r = await record(client, home, crew, detention(places["emergency_department"]["id"]))
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["code"] == "s136_in_private_dwelling" and "(S9)" in error["message"]
    assert refusals_of(r) == [("S9", "found_in")]
    assert await detention_rows(session, home) == []
    assert "detention.create" not in await audit_actions(session, home)
    # the officer says where the person actually was (e.g. taken from the street outside)
    outside = await record(
        client, home, crew, detention(places["emergency_department"]["id"], found_in="public_place")
    )
    assert outside.status_code == 201, outside.text
    assert outside.json()["found_in"] == "public_place"


async def test_found_in_defaults_to_the_incident_location_and_is_stored(
    client, crew, places, incident_id, session
):
    r = await record(client, incident_id, crew, detention(places["emergency_department"]["id"]))
    assert r.status_code == 201 and r.json()["found_in"] == "public_place"
    assert (await detention_rows(session, incident_id))[0].found_in == "public_place"


async def test_s135_needs_a_warrant_issued_before_the_detention(
    client, crew, handler, places, session
):
    home = await new_incident(client, handler, **{"location.kind": "private_dwelling"})
    place = places["health_based_place_of_safety"]["id"]
    none = await record(client, home, crew, detention(place, power="s135"))
    assert none.status_code == 422 and none.json()["error"]["code"] == "warrant_required"
    assert refusals_of(none) == [("S9", "warrant")]
    late = await record(
        client,
        home,
        crew,
        detention(
            place, power="s135", warrant={"issued_by": "Nottingham MC", "issued_at": ago(80)}
        ),
    )
    assert late.status_code == 422 and late.json()["error"]["code"] == "warrant_after_detention"
    assert refusals_of(late) == [("S9", "warrant.issued_at")]
    assert await detention_rows(session, home) == []
    warrant = {"issued_by": "Nottingham Magistrates' Court", "issued_at": ago(300)}
    ok = await record(client, home, crew, detention(place, power="s135", warrant=warrant))
    assert ok.status_code == 201, ok.text
    assert ok.json()["warrant"]["issued_by"] == "Nottingham Magistrates' Court"
    assert ok.json()["found_in"] == "private_dwelling"


async def test_s3_unknown_age_at_a_police_station_needs_believed_adult_reason(
    client, crew, handler, places, session
):
    unknown = await new_incident(client, handler, **{"person.age": None})
    body = detention(
        places["police_station"]["id"],
        police_station_reason="Imminent risk of serious injury",
        authorised_by="Insp Kaur",
        person={"gender": "male", "ethnicity": "white"},
    )
    r = await record(client, unknown, crew, body)
    assert r.status_code == 422 and r.json()["error"]["code"] == "age_unknown_at_police_station"
    assert refusals_of(r) == [("S3", "believed_adult_reason")]
    assert await detention_rows(session, unknown) == []
    body["believed_adult_reason"] = "Says he is 25; driving licence seen"
    ok = await record(client, unknown, crew, body)
    assert ok.status_code == 201, ok.text
    assert ok.json()["believed_adult_reason"] == "Says he is 25; driving licence seen"
    assert ok.json()["person"]["age"] is None and ok.json()["review_required"] is True


async def test_s5_under_18_at_a_place_not_taking_under_18s_needs_a_reason_and_is_flagged(
    client, crew, handler, supervisor, session
):
    adult_suite = await add_place(client, supervisor, "Adult suite", "health_based_place_of_safety")
    child = await new_incident(client, handler, **{"person.age": 14})
    body = detention(adult_suite, person={"gender": "female", "ethnicity": "black"})
    r = await record(client, child, crew, body)
    assert r.status_code == 422 and refusals_of(r) == [("S5", "under_18_place_reason")]
    assert await detention_rows(session, child) == []
    body["under_18_place_reason"] = "CAMHS place closed tonight; suite agreed to take her"
    ok = await record(client, child, crew, body)
    assert ok.status_code == 201, ok.text
    assert "under_18_unsuitable_place" in ok.json()["flags"]
    assert ok.json()["review_required"] is True


async def test_every_refusal_is_listed_in_order_with_its_rule_and_nothing_is_written(
    client, crew, handler, places, session
):
    home = await new_incident(
        client, handler, **{"location.kind": "private_dwelling", "person.age": 15}
    )
    body = detention(
        places["police_station"]["id"],
        detained_at=(datetime.now(UTC) + timedelta(minutes=10)).isoformat(),
        consulted=None,
        vehicle="police_vehicle",
        person={"gender": "male", "ethnicity": "white"},
    )
    r = await record(client, home, crew, body)
    assert r.status_code == 422
    error = r.json()["error"]
    assert error["code"] == "time_in_future"  # the first refusal's
    assert refusals_of(r) == [
        ("TIMES", "detained_at"),
        ("S9", "found_in"),
        ("S1", "consulted"),
        ("S3", "place_of_safety_id"),
        ("S6", "ambulance_requested"),
        ("S6", "police_vehicle_reason"),
    ]
    assert all(d["message"] for d in error["details"])
    assert await detention_rows(session, home) == []
    assert "detention.create" not in await audit_actions(session, home)


async def test_an_agreement_after_the_goal_has_passed_is_refused(
    client, crew, places, incident_id, session
):
    await record(client, incident_id, crew, detention(places["emergency_department"]["id"]))
    url = f"/api/v1/incidents/{incident_id}/s136"
    await client.post(f"{url}/arrived", json={"at": ago(61)}, headers=crew)
    body = {"goal_minutes": 120, "agreed_by": "ED nurse in charge", "reason": "Resus busy"}
    r = await client.post(f"{url}/handover-agreement", json=body, headers=crew)
    assert r.status_code == 409 and r.json()["error"]["code"] == "goal_passed"
    clock = await session.scalar(
        select(Clock).where(Clock.incident_id == incident_id, Clock.kind == "handover")
    )
    await session.refresh(clock)
    assert clock.agreed is False and clock.goal_minutes == 60
    assert await events_of(session, incident_id, "handover.agreed") == []


async def test_an_agreement_before_the_goal_is_accepted_and_a_retry_is_harmless(
    client, crew, places, incident_id, session
):
    await record(client, incident_id, crew, detention(places["emergency_department"]["id"]))
    url = f"/api/v1/incidents/{incident_id}/s136"
    await client.post(f"{url}/arrived", json={"at": ago(50)}, headers=crew)
    body = {"goal_minutes": 120, "agreed_by": "ED nurse in charge", "reason": "Resus busy"}
    first = await client.post(f"{url}/handover-agreement", json=body, headers=crew)
    again = await client.post(f"{url}/handover-agreement", json=body, headers=crew)
    assert first.status_code == again.status_code == 200, again.text
    assert len(await events_of(session, incident_id, "handover.agreed")) == 1


async def test_an_outcome_before_any_handover_is_not_a_handover(
    client, crew, places, incident_id, supervisor, session
):
    await record(client, incident_id, crew, detention(places["emergency_department"]["id"]))
    url = f"/api/v1/incidents/{incident_id}/s136"
    await client.post(f"{url}/arrived", json={"at": ago(20)}, headers=crew)
    r = await client.post(
        f"{url}/outcome", json={"at": ago(5), "outcome": "admitted_informally"}, headers=crew
    )
    assert r.status_code == 200, r.text
    handover = next(c for c in r.json()["clocks"] if c["kind"] == "handover")
    assert handover["stop_reason"] == "ended"
    assert handover["state"] == "stopped" and handover["outcome"] == "not_handed_over"
    assert handover["within_goal"] is None
    completed = (await events_of(session, incident_id, "handover.completed"))[0]
    assert completed.data["within_goal"] is None and completed.data["stop_reason"] == "ended"
    done = (await client.get("/api/v1/handovers?state=handed_over", headers=supervisor)).json()
    assert incident_id not in [h["incident_id"] for h in done]


async def test_a_real_handover_records_why_the_clock_stopped_where_and_who_took_over(
    client, crew, places, incident_id
):
    suite = places["health_based_place_of_safety"]["id"]
    await record(client, incident_id, crew, detention(suite))
    url = f"/api/v1/incidents/{incident_id}/s136"
    await client.post(f"{url}/arrived", json={"at": ago(20)}, headers=crew)
    r = await client.post(
        f"{url}/handover", json={"at": ago(2), "received_by": "RMN Obi"}, headers=crew
    )
    handover = next(c for c in r.json()["clocks"] if c["kind"] == "handover")
    assert handover["stop_reason"] == "handed_over" and handover["outcome"] == "met"
    assert handover["place_of_safety_id"] == suite and handover["received_by"] == "RMN Obi"


async def test_a_handover_entered_after_the_outcome_but_made_before_it_counts(
    client, crew, places, incident_id
):
    await record(client, incident_id, crew, detention(places["emergency_department"]["id"]))
    url = f"/api/v1/incidents/{incident_id}/s136"
    await client.post(f"{url}/arrived", json={"at": ago(40)}, headers=crew)
    await client.post(f"{url}/outcome", json={"at": ago(5), "outcome": "detained_s2"}, headers=crew)
    after = await client.post(
        f"{url}/handover", json={"at": ago(3), "received_by": "RN"}, headers=crew
    )
    assert after.status_code == 409 and after.json()["error"]["code"] == "detention_ended"
    before = await client.post(
        f"{url}/handover", json={"at": ago(10), "received_by": "RN"}, headers=crew
    )
    assert before.status_code == 200, before.text
    handover = next(c for c in before.json()["clocks"] if c["kind"] == "handover")
    assert handover["stop_reason"] == "handed_over" and handover["outcome"] == "met"


async def test_a_changed_resend_is_409_naming_each_difference(
    client, crew, places, incident_id, session
):
    suite = places["health_based_place_of_safety"]["id"]
    ed = places["emergency_department"]["id"]
    body = detention(suite)
    assert (await record(client, incident_id, crew, body)).status_code == 201
    changed = {
        **body,
        "place_of_safety_id": ed,
        "vehicle": "police_vehicle",
        "ambulance_requested": True,
        "police_vehicle_reason": "No ambulance",
    }
    r = await record(client, incident_id, crew, changed)
    assert r.status_code == 409 and r.json()["error"]["code"] == "detention_exists"
    assert r.json()["error"]["details"] == [
        {"field": "place_of_safety_id", "message": f"recorded {suite}, sent {ed}"},
        {"field": "vehicle", "message": "recorded 'ambulance', sent 'police_vehicle'"},
        {"field": "ambulance_requested", "message": "recorded nothing, sent yes"},
        {"field": "police_vehicle_reason", "message": "recorded nothing, sent 'No ambulance'"},
    ]
    stored = (await detention_rows(session, incident_id))[0]
    await session.refresh(stored)
    assert stored.place_of_safety_id == suite and stored.vehicle == "ambulance"
    # a different person is a difference too
    other = {**body, "person": {"age": 35, "gender": "female", "ethnicity": "white"}}
    r = await record(client, incident_id, crew, other)
    assert r.status_code == 409
    assert r.json()["error"]["details"] == [
        {"field": "person.age", "message": "recorded 34, sent 35"}
    ]


async def test_an_identical_resend_returns_the_record(client, crew, places, incident_id, session):
    # the age left out is taken from the incident, on the first send and on the retry
    body = detention(
        places["health_based_place_of_safety"]["id"],
        person={"gender": "female", "ethnicity": "white"},
    )
    first = await record(client, incident_id, crew, body)
    again = await record(client, incident_id, crew, body)
    assert first.status_code == again.status_code == 201, again.text
    assert again.json()["id"] == first.json()["id"] and again.json()["person"]["age"] == 34
    assert len(await detention_rows(session, incident_id)) == 1


async def test_arrival_starts_the_clock_even_with_a_bad_stored_place_type_goal(
    client, crew, places, incident_id, session
):
    # As saved before warnings were checked: a place-type warning after its goal made every
    # later arrival there fail with a 500, and no clock started.
    await session.execute(
        update(Area)
        .where(Area.code == "default")
        .values(handover_goals_by_place_type={"emergency_department": {"goal": 30, "warning": 45}})
    )
    await session.commit()
    await record(client, incident_id, crew, detention(places["emergency_department"]["id"]))
    r = await client.post(
        f"/api/v1/incidents/{incident_id}/s136/arrived", json={"at": ago(10)}, headers=crew
    )
    assert r.status_code == 200, r.text
    handover = next(c for c in r.json()["clocks"] if c["kind"] == "handover")
    assert handover["goal_minutes"] == 30 and handover["warning_minutes"] is None
    assert handover["state"] == "waiting"


# --- transfers (S10) --------------------------------------------------------------------------


async def arrive(client, crew, incident_id, minutes_ago, **extra):
    r = await client.post(
        f"/api/v1/incidents/{incident_id}/s136/arrived",
        json={"at": ago(minutes_ago), **extra},
        headers=crew,
    )
    assert r.status_code == 200, r.text
    return r.json()


async def move(client, headers, incident_id, body):
    return await client.post(
        f"/api/v1/incidents/{incident_id}/s136/transfer", json=body, headers=headers
    )


def clocks_of(out, kind):
    return [c for c in out["clocks"] if c["kind"] == kind]


async def test_transfer_keeps_the_24_hour_clock_and_starts_a_handover_clock_at_the_new_place(
    client, crew, places, incident_id, session
):
    ed = places["emergency_department"]["id"]
    suite = places["health_based_place_of_safety"]["id"]
    await record(client, incident_id, crew, detention(ed))
    arrived = await arrive(client, crew, incident_id, 80)
    limit_before = clocks_of(arrived, "detention")[0]
    at = ago(30)
    r = await move(
        client,
        crew,
        incident_id,
        {"at": at, "place_of_safety_id": suite, "vehicle": "ambulance", "reason": "Bed free"},
    )
    assert r.status_code == 200, r.text
    out = r.json()
    limit = clocks_of(out, "detention")
    assert len(limit) == 1 and limit[0]["started_at"] == limit_before["started_at"]
    assert limit[0]["deadline_at"] == limit_before["deadline_at"]
    old, new = clocks_of(out, "handover")
    assert old["place_of_safety_id"] == ed and old["stop_reason"] == "transferred"
    assert old["outcome"] == "not_handed_over"
    assert datetime.fromisoformat(old["stopped_at"]) == datetime.fromisoformat(at)
    assert new["place_of_safety_id"] == suite and new["stopped_at"] is None
    assert datetime.fromisoformat(new["started_at"]) == datetime.fromisoformat(at)
    assert new["goal_minutes"] == 60 and new["state"] == "waiting"
    assert out["place_of_safety_id"] == suite and out["first_place_of_safety_id"] == ed
    assert out["arrived_at"] == arrived["arrived_at"]  # the first arrival
    assert len(out["transfers"]) == 1
    assert out["transfers"][0]["to_place_of_safety"] == "Highbury s136 suite"
    rows = list(await session.scalars(select(DetentionTransfer)))
    assert [(t.from_place_id, t.to_place_id, t.vehicle) for t in rows] == [(ed, suite, "ambulance")]
    types = [e.type for e in await events_of(session, incident_id, "handover")]
    # the arrival 80 minutes ago was entered late (its warning and breach announced at once)
    assert types == [
        "handover.started",
        "handover.warning",
        "handover.breached",
        "handover.completed",
        "handover.started",
    ]
    completed = (await events_of(session, incident_id, "handover.completed"))[0]
    assert completed.data["stop_reason"] == "transferred"
    assert "detention.transfer" in await audit_actions(session, incident_id)
    # the handover now happens at the new place
    done = await client.post(
        f"/api/v1/incidents/{incident_id}/s136/handover",
        json={"at": ago(5), "received_by": "RMN Obi"},
        headers=crew,
    )
    assert done.status_code == 200, done.text
    last = clocks_of(done.json(), "handover")[-1]
    assert last["stop_reason"] == "handed_over" and last["outcome"] == "met"


async def test_transfer_checks_s3_at_the_new_place_and_writes_nothing_when_refused(
    client, crew, handler, places, session
):
    child = await new_incident(client, handler, **{"person.age": 16})
    body = detention(
        places["emergency_department"]["id"], person={"gender": "male", "ethnicity": "white"}
    )
    assert (await record(client, child, crew, body)).status_code == 201
    await arrive(client, crew, child, 60)
    r = await move(
        client,
        crew,
        child,
        {
            "at": ago(10),
            "place_of_safety_id": places["police_station"]["id"],
            "police_station_reason": "r",
            "authorised_by": "Insp A",
        },
    )
    assert r.status_code == 422 and r.json()["error"]["code"] == "police_station_under_18"
    assert refusals_of(r) == [("S3", "place_of_safety_id")]
    assert list(await session.scalars(select(DetentionTransfer))) == []
    out = (await client.get(f"/api/v1/incidents/{child}/s136", headers=crew)).json()
    assert [c["stopped_at"] for c in clocks_of(out, "handover")] == [None]


async def test_transfer_is_safe_to_retry(client, crew, places, incident_id, session):
    await record(client, incident_id, crew, detention(places["emergency_department"]["id"]))
    await arrive(client, crew, incident_id, 60)
    body = {"at": ago(10), "place_of_safety_id": places["health_based_place_of_safety"]["id"]}
    first = await move(client, crew, incident_id, body)
    again = await move(client, crew, incident_id, body)
    assert first.status_code == again.status_code == 200, again.text
    assert first.json() == again.json()
    assert len(list(await session.scalars(select(DetentionTransfer)))) == 1
    assert len(await events_of(session, incident_id, "handover.started")) == 2


async def test_transfer_needs_an_arrival_and_a_time_after_it(
    client, crew, places, incident_id, session
):
    suite = places["health_based_place_of_safety"]["id"]
    await record(client, incident_id, crew, detention(places["emergency_department"]["id"]))
    early = await move(client, crew, incident_id, {"at": ago(10), "place_of_safety_id": suite})
    assert early.status_code == 409 and early.json()["error"]["code"] == "not_arrived"
    await arrive(client, crew, incident_id, 60)
    before = await move(client, crew, incident_id, {"at": ago(61), "place_of_safety_id": suite})
    assert before.status_code == 422 and refusals_of(before) == [("S10", "at")]
    future = (datetime.now(UTC) + timedelta(minutes=10)).isoformat()
    ahead = await move(client, crew, incident_id, {"at": future, "place_of_safety_id": suite})
    assert ahead.status_code == 422 and ahead.json()["error"]["code"] == "time_in_future"
    same = await move(
        client,
        crew,
        incident_id,
        {"at": ago(5), "place_of_safety_id": places["emergency_department"]["id"]},
    )
    assert same.status_code == 422 and same.json()["error"]["code"] == "same_place"
    assert list(await session.scalars(select(DetentionTransfer))) == []


async def test_welfare_checks_start_at_a_police_station_and_stop_when_the_person_leaves(
    client, crew, places, incident_id
):
    await record(client, incident_id, crew, detention(places["emergency_department"]["id"]))
    await arrive(client, crew, incident_id, 90)
    station = places["police_station"]["id"]
    no_authority = await move(
        client, crew, incident_id, {"at": ago(60), "place_of_safety_id": station}
    )
    assert no_authority.status_code == 422
    assert refusals_of(no_authority) == [("S4", "police_station_reason"), ("S4", "authorised_by")]
    into = await move(
        client,
        crew,
        incident_id,
        {
            "at": ago(60),
            "place_of_safety_id": station,
            "police_station_reason": "Violent; ED could not hold him safely",
            "authorised_by": "Insp Kaur 1234",
        },
    )
    assert into.status_code == 200, into.text
    welfare = clocks_of(into.json(), "welfare_check")
    assert len(welfare) == 1 and welfare[0]["stopped_at"] is None
    assert welfare[0]["place_of_safety_id"] == station
    assert into.json()["review_required"] is True
    out = await move(
        client,
        crew,
        incident_id,
        {"at": ago(20), "place_of_safety_id": places["health_based_place_of_safety"]["id"]},
    )
    assert out.status_code == 200, out.text
    welfare = clocks_of(out.json(), "welfare_check")
    assert welfare[0]["stop_reason"] == "transferred"
    assert [c["stop_reason"] for c in clocks_of(out.json(), "handover")] == [
        "transferred",
        "transferred",
        None,
    ]
    check = await client.post(
        f"/api/v1/incidents/{incident_id}/s136/welfare-check",
        json={"at": ago(1), "by": "FME"},
        headers=crew,
    )
    assert check.status_code == 409 and check.json()["error"]["code"] == "not_at_police_station"


# --- possible duplicate detentions ------------------------------------------------------------


async def test_the_same_person_detained_on_two_incidents_is_flagged_once(
    client, crew, handler, supervisor, places, session
):
    suite = places["health_based_place_of_safety"]["id"]
    first = await new_incident(client, handler)
    second = await new_incident(client, handler, **{"location.description": "Market Square"})
    assert (
        await record(
            client,
            first,
            crew,
            detention(suite, detained_at=ago(300), consulted={"who": "mh_nurse", "at": ago(305)}),
        )
    ).status_code == 201
    body = detention(suite)
    r = await record(client, second, crew, body)
    assert r.status_code == 201, r.text
    assert "possible_duplicate" in r.json()["flags"]
    earlier = (await client.get(f"/api/v1/incidents/{first}/s136", headers=supervisor)).json()
    assert "possible_duplicate" in earlier["flags"]
    found = await open_escalations(client, supervisor, "possible_duplicate_detention")
    assert len(found) == 1
    assert found[0]["risk"] == "urgent" and found[0]["incident_id"] == second
    assert found[0]["detail"] == (
        f"Detentions on incidents {first} and {second} may be the same person "
        "(within 24 h, same sex and age band, same place)"
    )
    # a retry raises nothing more
    assert (await record(client, second, crew, body)).status_code == 201
    assert len(await open_escalations(client, supervisor, "possible_duplicate_detention")) == 1
    raised = [
        e
        for e in await events_of(session, second, "escalation.raised")
        if e.data["reason"] == "possible_duplicate_detention"
    ]
    assert len(raised) == 1


async def test_different_people_are_not_flagged_as_duplicates(
    client, crew, handler, supervisor, places
):
    suite = places["health_based_place_of_safety"]["id"]
    first = await new_incident(client, handler)
    second = await new_incident(client, handler)
    await record(client, first, crew, detention(suite))
    r = await record(
        client,
        second,
        crew,
        detention(suite, person={"age": 60, "gender": "female", "ethnicity": "white"}),
    )
    assert r.status_code == 201 and r.json()["flags"] == []
    assert await open_escalations(client, supervisor, "possible_duplicate_detention") == []


# --- clock breaches are owned escalations ---------------------------------------------------


async def test_a_breach_announced_by_the_worker_raises_an_owned_escalation(
    client, crew, places, incident_id, session, supervisor
):
    await record(client, incident_id, crew, detention(places["health_based_place_of_safety"]["id"]))
    await arrive(client, crew, incident_id, 50)
    assert await open_escalations(client, supervisor, "clock_breached") == []
    clock = await session.scalar(
        select(Clock).where(Clock.incident_id == incident_id, Clock.kind == "handover")
    )
    # as if 15 minutes passed with nobody looking: the breach is now due
    clock.started_at = clock.started_at - timedelta(minutes=15)
    clock.next_due_at = clock.started_at + timedelta(minutes=60, microseconds=1)
    await session.commit()
    assert await fire_due_clocks(session=session) >= 1
    await session.commit()
    found = await open_escalations(client, supervisor, "clock_breached")
    assert len(found) == 1
    assert found[0]["risk"] == "urgent" and found[0]["incident_id"] == incident_id
    assert found[0]["detail"] == (
        f"Handover at Highbury s136 suite (incident {incident_id}) passed its 60-minute goal"
    )
    await fire_due_clocks(session=session)
    await session.commit()
    assert len(await open_escalations(client, supervisor, "clock_breached")) == 1


async def test_a_breach_entered_late_is_escalated_at_once(
    client, crew, places, incident_id, supervisor
):
    await record(client, incident_id, crew, detention(places["health_based_place_of_safety"]["id"]))
    await arrive(client, crew, incident_id, 70)
    found = await open_escalations(client, supervisor, "clock_breached")
    assert [(e["incident_id"], e["risk"]) for e in found] == [(incident_id, "urgent")]


async def test_a_missed_detention_limit_is_an_immediate_escalation(
    client, crew, places, incident_id, supervisor
):
    await record(
        client,
        incident_id,
        crew,
        detention(
            places["health_based_place_of_safety"]["id"],
            detained_at=ago(26 * 60),
            consulted={"who": "doctor", "at": ago(26 * 60 + 5)},
        ),
    )
    await arrive(client, crew, incident_id, 25 * 60)
    found = await open_escalations(client, supervisor, "clock_breached")
    limit = [e for e in found if e["detail"].startswith("Detention")]
    assert [e["risk"] for e in limit] == ["immediate"]
    assert limit[0]["detail"] == f"Detention (incident {incident_id}) passed its 24-hour limit"
    assert found[0] == limit[0]  # the most at risk is on top


async def test_a_restarted_welfare_clock_missed_again_is_a_new_escalation(
    client, crew, places, incident_id, supervisor
):
    station = places["police_station"]["id"]
    await record(
        client,
        incident_id,
        crew,
        detention(station, police_station_reason="risk", authorised_by="Insp Kaur"),
    )
    await arrive(client, crew, incident_id, 40)
    welfare = [
        e
        for e in await open_escalations(client, supervisor, "clock_breached")
        if e["detail"].startswith("Welfare")
    ]
    assert [e["risk"] for e in welfare] == ["immediate"]
    assert welfare[0]["detail"] == (
        f"Welfare check at Bridewell custody (incident {incident_id}) overdue: none for 30 minutes"
    )
    # a check 35 minutes ago restarts the clock; its next check was due 5 minutes ago
    r = await client.post(
        f"/api/v1/incidents/{incident_id}/s136/welfare-check",
        json={"at": ago(35), "by": "FME Dr Jones"},
        headers=crew,
    )
    assert r.status_code == 200, r.text
    welfare = [
        e
        for e in await open_escalations(client, supervisor, "clock_breached")
        if e["detail"].startswith("Welfare")
    ]
    assert len(welfare) == 2


async def test_the_clock_board_shows_each_clock_where_it_runs_after_a_transfer(
    client, crew, places, incident_id, supervisor
):
    await record(client, incident_id, crew, detention(places["emergency_department"]["id"]))
    await arrive(client, crew, incident_id, 50)
    suite = places["health_based_place_of_safety"]["id"]
    r = await move(client, crew, incident_id, {"at": ago(10), "place_of_safety_id": suite})
    assert r.status_code == 200, r.text
    board = (await client.get("/api/v1/clocks?state=all", headers=supervisor)).json()
    handovers = [c for c in board if c["incident_id"] == incident_id and c["clock"] == "handover"]
    assert [(c["place_of_safety"], c["stopped_at"] is None) for c in handovers] == [
        ("QMC Emergency Department", False),
        ("Highbury s136 suite", True),
    ]
    open_board = (await client.get("/api/v1/clocks?state=open", headers=supervisor)).json()
    running = [c for c in open_board if c["incident_id"] == incident_id]
    assert sorted(c["clock"] for c in running) == ["assessment", "detention", "handover"]
