"""Reports against a known set of detentions and incidents."""

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from app.models import Detention, Incident
from tests.factories import incident
from tests.test_s136_api import ago, detention, record


def _window() -> dict[str, str]:
    """A range holding everything these tests create, whatever the time of day they run.

    The default range is today in Europe/London; just after midnight the detentions made
    "90 minutes ago" fall on yesterday, so the tests name their range explicitly.
    """
    now = datetime.now(UTC)
    return {
        "from": (now - timedelta(days=1)).isoformat(),
        "to": (now + timedelta(hours=1)).isoformat(),
    }


async def _places(client, supervisor):
    ids = {}
    for name, kind in (
        ("Suite", "health_based_place_of_safety"),
        ("ED", "emergency_department"),
        ("Custody", "police_station"),
    ):
        # Health places take under-18s here (a child elsewhere needs a reason: S5).
        body = {"name": name, "type": kind, "accepts_under_18": kind != "police_station"}
        r = await client.post("/api/v1/places-of-safety", json=body, headers=supervisor)
        ids[kind] = r.json()["id"]
    return ids


async def _detain(client, handler, crew, body, *, arrived=None, handed=None):
    iid = (await client.post("/api/v1/incidents", json=incident(), headers=handler)).json()["id"]
    r = await record(client, iid, crew, body)
    assert r.status_code == 201, r.text
    url = f"/api/v1/incidents/{iid}/s136"
    if arrived is not None:
        assert (
            await client.post(f"{url}/arrived", json={"at": ago(arrived)}, headers=crew)
        ).status_code == 200
    if handed is not None:
        r = await client.post(
            f"{url}/handover", json={"at": ago(handed), "received_by": "RN"}, headers=crew
        )
        assert r.status_code == 200, r.text
    return iid


async def test_s136_return_totals_and_csv(client, handler, supervisor, make_user):
    crew = await make_user("crew", unit="TC1")
    p = await _places(client, supervisor)
    # five detentions with known attributes
    await _detain(
        client, handler, crew, detention(p["health_based_place_of_safety"]), arrived=80, handed=40
    )  # met (40)
    await _detain(
        client,
        handler,
        crew,
        detention(
            p["emergency_department"],
            vehicle="police_vehicle",
            ambulance_requested=True,
            police_vehicle_reason="none within 30 min",
        ),
        arrived=85,
        handed=5,
    )  # missed (80)
    await _detain(
        client,
        handler,
        crew,
        detention(
            p["emergency_department"], person={"age": 16, "gender": "female", "ethnicity": "mixed"}
        ),
        arrived=30,
    )  # open
    await _detain(
        client,
        handler,
        crew,
        detention(
            p["police_station"],
            police_station_reason="risk",
            authorised_by="Insp C",
            consulted=None,
            not_consulted_reason="no time",
        ),
        arrived=60,
        handed=50,
    )
    await _detain(
        client,
        handler,
        crew,
        detention(
            None,
            power="s135",
            warrant={"issued_by": "Nottingham Magistrates", "issued_at": ago(600)},
            vehicle="none",
            person={"gender": "not_known", "ethnicity": "not_known"},
        ),
    )
    r = await client.get("/api/v1/reports/s136", params=_window(), headers=supervisor)
    assert r.status_code == 200, r.text
    report = r.json()
    totals = report["totals"]
    assert totals["detentions"] == 5
    assert totals["by_power"] == {"s136": 4, "s135": 1}
    assert totals["by_place_of_safety_type"]["emergency_department"] == 2
    assert totals["by_place_of_safety_type"]["police_station"] == 1
    assert totals["by_place_of_safety_type"]["not_known"] == 1
    assert totals["by_vehicle"]["ambulance"] == 3 and totals["by_vehicle"]["police_vehicle"] == 1
    assert totals["by_vehicle"]["none"] == 1
    # the s135 line gave no age: the incident's (34) is used
    assert totals["by_age_band"] == {"under_18": 1, "18_and_over": 4, "not_known": 0}
    assert totals["by_handover_within_goal"]["met"] == 2  # suite (40) and custody (10)
    assert totals["by_handover_within_goal"]["missed"] == 1
    assert totals["by_handover_within_goal"]["open"] == 1
    assert totals["by_handover_within_goal"]["not_arrived"] == 1
    assert totals["consulted_before_detention"] == 4
    assert totals["police_station_reviews"] == 1
    station = next(d for d in report["detentions"] if d["place_of_safety_type"] == "police_station")
    assert station["authorised_by"] == "Insp C" and station["police_station_reason"] == "risk"
    pv = next(d for d in report["detentions"] if d["vehicle"] == "police_vehicle")
    assert pv["ambulance_requested"] is True and pv["handover_minutes"] == 80
    csv_response = await client.get(
        "/api/v1/reports/s136", params=_window(), headers={**supervisor, "Accept": "text/csv"}
    )
    assert csv_response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(csv_response.text)))
    assert len(rows) == 5 and rows[0]["power"] in ("s136", "s135")
    assert {r["handover_within_goal"] for r in rows} == {"met", "missed", "open", "not_arrived"}


async def test_rcrp_report(client, handler, supervisor, make_user):
    crew = await make_user("crew", unit="TC1")
    p = await _places(client, supervisor)
    await client.post("/api/v1/incidents", json=incident(), headers=handler)  # police_and_triage
    low = (
        await client.post(
            "/api/v1/incidents",
            json=incident(**{"risk.immediate_risk_to_life": False}),
            headers=handler,
        )
    ).json()  # triage_car: avoided
    await client.post(
        "/api/v1/incidents",
        json=incident(
            source="nhs_111", **{"risk.immediate_risk_to_life": False, "risk.suicidal": False}
        ),
        headers=handler,
    )
    await client.post(
        f"/api/v1/incidents/{low['id']}/override",
        json={"outcome": "police_and_triage", "reason": "history of weapons"},
        headers=handler,
    )
    await client.post(
        "/api/v1/incidents",
        json=incident(
            **{
                "risk.immediate_risk_to_life": False,
                "category": "other",
                "risk.suicidal": False,
                "context.known_to_mh_services": False,
            }
        ),
        headers=handler,
    )  # no_police_action: avoided
    await _detain(
        client, handler, crew, detention(p["health_based_place_of_safety"]), arrived=80, handed=40
    )
    await _detain(client, handler, crew, detention(p["emergency_department"]), arrived=85, handed=5)
    r = await client.get("/api/v1/reports/rcrp", params=_window(), headers=supervisor)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["incidents_total"] == 6
    assert body["by_source"] == {"police_999": 5, "nhs_111": 1}
    assert body["by_outcome"]["police_and_triage"] == 3
    assert body["overrides"] == 1
    assert body["overrides_by_change"] == {"triage_car→police_and_triage": 1}
    assert body["police_attendances_avoided"] == 1  # the no_police_action call
    assert body["handovers"]["count"] == 2
    assert body["handovers"]["median_minutes"] == 60.0
    assert body["handovers"]["within_goal_share"] == 0.5


async def test_periods_follow_london_days_across_midnight_and_dst(
    client, handler, supervisor, make_user, session
):
    crew = await make_user("crew", unit="TC1")
    p = await _places(client, supervisor)
    iid = await _detain(client, handler, crew, detention(p["emergency_department"]))
    # 23:30 UTC on 30 June is 00:30 BST on 1 July; 00:30 UTC on 25 Oct 2026 is 01:30 BST (clocks
    # go back at 02:00 BST that morning).
    cases = {
        datetime(2026, 6, 30, 23, 30, tzinfo=UTC): ("2026-07-01", "2026-06-30"),
        datetime(2026, 10, 25, 0, 30, tzinfo=UTC): ("2026-10-25", "2026-10-24"),
        datetime(2026, 10, 25, 23, 30, tzinfo=UTC): ("2026-10-25", "2026-10-26"),
    }
    for when, (inside, outside) in cases.items():
        await session.execute(
            update(Detention).where(Detention.incident_id == iid).values(detained_at=when)
        )
        await session.execute(update(Incident).where(Incident.id == iid).values(reported_at=when))
        await session.commit()
        for day, expected in ((inside, 1), (outside, 0)):
            s136 = (
                await client.get(f"/api/v1/reports/s136?from={day}&to={day}", headers=supervisor)
            ).json()
            rcrp = (
                await client.get(f"/api/v1/reports/rcrp?from={day}&to={day}", headers=supervisor)
            ).json()
            assert s136["totals"]["detentions"] == expected, (when, day)
            assert rcrp["incidents_total"] == expected, (when, day)


async def test_report_errors_and_roles(client, supervisor, handler):
    bad = await client.get("/api/v1/reports/s136?from=2026-11-22&to=2026-11-01", headers=supervisor)
    assert bad.status_code == 422 and bad.json()["error"]["details"][0]["field"] == "from"
    nonsense = await client.get("/api/v1/reports/rcrp?from=yesterday", headers=supervisor)
    assert nonsense.status_code == 422
    assert (await client.get("/api/v1/reports/s136", headers=handler)).status_code == 403
    assert (await client.get("/api/v1/reports/rcrp", headers=handler)).status_code == 403
    week = datetime.now(UTC) - timedelta(days=7)
    ok = await client.get(
        "/api/v1/reports/rcrp", params={"from": week.isoformat()}, headers=supervisor
    )
    assert ok.status_code == 200


async def test_rcrp_within_goal_counts_open_breached_handovers_as_missed(
    client, handler, supervisor, make_user
):
    crew = await make_user("crew", unit="TC1")
    p = await _places(client, supervisor)
    suite = p["health_based_place_of_safety"]
    await _detain(client, handler, crew, detention(suite), arrived=80, handed=40)  # met
    # two people still waiting, past the 60-minute goal, and one within it
    waiting = [
        await _detain(client, handler, crew, detention(p["emergency_department"]), arrived=minutes)
        for minutes in (75, 65, 20)
    ]
    r = await client.get("/api/v1/reports/rcrp", params=_window(), headers=supervisor)
    handovers = r.json()["handovers"]
    assert handovers["count"] == 1 and handovers["median_minutes"] == 40.0
    assert handovers["within_goal_share"] == pytest.approx(1 / 3)  # not 100%
    assert handovers["counted_for_goal"] == 3 and handovers["open_past_goal"] == 2
    report = (await client.get("/api/v1/reports/s136", params=_window(), headers=supervisor)).json()
    results = {d["incident_id"]: d["handover_within_goal"] for d in report["detentions"]}
    assert [results[i] for i in waiting] == ["breached", "breached", "open"]
    assert report["totals"]["by_handover_within_goal"]["breached"] == 2


async def test_an_outcome_before_any_handover_is_reported_as_not_handed_over(
    client, handler, supervisor, make_user
):
    crew = await make_user("crew", unit="TC1")
    p = await _places(client, supervisor)
    iid = await _detain(client, handler, crew, detention(p["emergency_department"]), arrived=30)
    r = await client.post(
        f"/api/v1/incidents/{iid}/s136/outcome",
        json={"at": ago(10), "outcome": "discharged_with_referral"},
        headers=crew,
    )
    assert r.status_code == 200, r.text
    report = (await client.get("/api/v1/reports/s136", params=_window(), headers=supervisor)).json()
    line = next(d for d in report["detentions"] if d["incident_id"] == iid)
    assert line["handover_within_goal"] == "not_handed_over"
    assert line["handover_minutes"] is None
    assert report["totals"]["by_handover_within_goal"]["met"] == 0
    rcrp = (await client.get("/api/v1/reports/rcrp", params=_window(), headers=supervisor)).json()
    assert rcrp["handovers"]["count"] == 0
    assert rcrp["handovers"]["within_goal_share"] is None  # not 100%
    assert rcrp["handovers"]["not_handed_over"] == 1


async def test_the_s136_return_keeps_the_first_place_and_counts_transfers(
    client, handler, supervisor, make_user
):
    crew = await make_user("crew", unit="TC1")
    p = await _places(client, supervisor)
    iid = await _detain(
        client,
        handler,
        crew,
        detention(p["police_station"], police_station_reason="Violent", authorised_by="Insp Kaur"),
        arrived=80,
    )
    url = f"/api/v1/incidents/{iid}/s136"
    r = await client.post(
        f"{url}/transfer",
        json={"at": ago(50), "place_of_safety_id": p["health_based_place_of_safety"]},
        headers=crew,
    )
    assert r.status_code == 200, r.text
    await client.post(f"{url}/handover", json={"at": ago(20), "received_by": "RN"}, headers=crew)
    await client.post(
        f"{url}/outcome", json={"at": ago(10), "outcome": "detained_s2"}, headers=crew
    )
    report = (await client.get("/api/v1/reports/s136", params=_window(), headers=supervisor)).json()
    line = next(d for d in report["detentions"] if d["incident_id"] == iid)
    assert line["place_of_safety_type"] == "police_station" and line["place_of_safety"] == "Custody"
    assert line["transfers"] == 1
    assert line["hours_at_police_station"] == 0.5  # arrival to the transfer
    assert line["authorised_by"] == "Insp Kaur"
    # handed over 30 minutes after arriving at the second place: within its goal
    assert line["handover_minutes"] == 30 and line["handover_within_goal"] == "met"
    assert report["totals"]["transferred"] == 1
    assert report["totals"]["by_place_of_safety_type"]["police_station"] == 1
