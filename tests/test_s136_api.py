"""Section 136 recording under S1–S8 and the clocks, through the HTTP API (in process)."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.models import Clock, Event
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
    client, crew, places, handler, admin
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
    board = (await client.get("/api/v1/handovers?state=open", headers=handler)).json()
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
    assert r.status_code == 403
