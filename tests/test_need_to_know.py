"""Need to know (docs/security.md): who reads which person data, and until when. The pure rules
(app/need_to_know.py), then each finding of issue 9 through the API."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text

from app import need_to_know as ntk
from app.models import AuditEntry, Event
from tests.world import (
    ADVICE_CALL,
    act,
    add_place,
    add_unit,
    ago,
    detain,
    new_incident,
    offer_to,
)

NOW = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)  # a DST change night: arithmetic stays in UTC
HOURS_12 = timedelta(hours=12)


# --- the rules (pure) -------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["accepted", "en_route", "on_scene"])
def test_a_unit_on_the_job_may_see_the_incident(status):
    long_ago = NOW - timedelta(days=30)
    assert ntk.unit_may_see([ntk.Job(status, long_ago)], now=NOW, access=HOURS_12)


@pytest.mark.parametrize("status", ["offered", "declined", "expired", "withdrawn", "cancelled"])
def test_an_offer_not_taken_gives_no_access(status):
    assert not ntk.unit_may_see([ntk.Job(status, NOW)], now=NOW, access=HOURS_12)


def test_access_ends_a_set_time_after_clearing():
    cleared = NOW - HOURS_12
    assert ntk.unit_may_see(
        [ntk.Job("cleared", cleared + timedelta(seconds=1))], now=NOW, access=HOURS_12
    )
    assert not ntk.unit_may_see([ntk.Job("cleared", cleared)], now=NOW, access=HOURS_12)
    assert not ntk.unit_may_see([ntk.Job("cleared", NOW)], now=NOW, access=timedelta(0))
    # A second job on the same incident keeps it open.
    jobs = [ntk.Job("cleared", NOW - timedelta(days=2)), ntk.Job("en_route", NOW)]
    assert ntk.unit_may_see(jobs, now=NOW, access=HOURS_12)


def test_an_s136_record_is_the_recording_units_and_supervisors():
    running = ntk.DetentionFacts("TC1", None)
    ended = ntk.DetentionFacts("TC1", NOW - timedelta(hours=13))
    no_unit = ntk.DetentionFacts(None, None)

    def sees(role, facts, unit=None, consulted=False):
        return ntk.may_see_detention(
            role, facts, unit_callsign=unit, desk_consulted=consulted, now=NOW, access=HOURS_12
        )

    assert sees("crew", running, "TC1") and not sees("crew", running, "TC2")
    assert not sees("crew", ended, "TC1")  # access ends after the detention, like a job's
    assert not sees("crew", no_unit, "TC1") and sees("supervisor", no_unit)
    assert sees("nurse", running, "DESK1", consulted=True)
    assert not sees("nurse", running, "DESK1", consulted=False)
    assert not sees("call_handler", running) and not sees("admin", running)
    # The nurse desk reads, it does not record.
    assert not ntk.may_change_detention(
        "nurse", running, unit_callsign="DESK1", now=NOW, access=HOURS_12
    )
    assert ntk.may_change_detention("crew", running, unit_callsign="TC1", now=NOW, access=HOURS_12)


def test_advice_is_not_for_call_handlers():
    assert not ntk.sees_advice("call_handler") and not ntk.sees_advice("admin")
    assert ntk.sees_advice("crew") and ntk.sees_advice("nurse") and ntk.sees_advice("supervisor")


# --- through the API --------------------------------------------------------------------------


@pytest.fixture
async def area(client, supervisor, make_user, connect):
    """TC1 and TC2 (cars), DESK1 (the nurse desk), all with a crew signed in; a place."""
    for callsign in ("TC1", "TC2"):
        await add_unit(client, supervisor, callsign)
    await add_unit(client, supervisor, "DESK1", kind="nurse_desk")
    await connect("TC1", "TC2", "DESK1")
    return {
        "place": await add_place(client, supervisor),
        "tc1": await make_user("crew", unit="TC1"),
        "tc2": await make_user("crew", unit="TC2"),
        "nurse": await make_user("nurse", unit="DESK1"),
    }


async def test_a_nurse_reads_an_s136_record_only_when_consulted_on_that_incident(
    client, handler, area, session
):
    tc1, nurse = area["tc1"], area["nurse"]
    elsewhere = (await new_incident(client, handler))["id"]
    await detain(client, tc1, elsewhere, area["place"])
    refused = await client.get(f"/api/v1/incidents/{elsewhere}/s136", headers=nurse)
    assert refused.status_code == 404  # before issue 9: any nurse of the area read it

    asked = await new_incident(client, handler, **ADVICE_CALL)
    desk_job = offer_to(asked, "DESK1")
    await act(client, nurse, desk_job, "accept")
    await detain(client, tc1, asked["id"], area["place"])
    consulted = await client.get(f"/api/v1/incidents/{asked['id']}/s136", headers=nurse)
    assert consulted.status_code == 200 and consulted.json()["unit"] == "TC1"

    # Advice given (the request clears), and the area's access window has passed since.
    await act(client, nurse, desk_job, "advice", {"advice": "Crisis team", "s136_used": True})
    await session.execute(
        text("UPDATE assignments SET updated_at = now() - interval '13 hours' WHERE id = :id"),
        {"id": desk_job},
    )
    await session.commit()
    lapsed = await client.get(f"/api/v1/incidents/{asked['id']}/s136", headers=nurse)
    assert lapsed.status_code == 404


async def test_a_detention_with_no_unit_is_only_supervisors(
    client, handler, supervisor, area, make_user
):
    # Nobody took the incident: recorded by a supervisor, the detention has no unit.
    taken_by_none = (await new_incident(client, handler, **{"location.lat": None}))["id"]
    recorded = await detain(client, supervisor, taken_by_none, area["place"])
    assert recorded["unit"] is None
    url = f"/api/v1/incidents/{taken_by_none}/s136"
    for crew in (area["tc1"], area["tc2"]):
        assert (await client.get(url, headers=crew)).status_code == 404
        changed = await client.post(f"{url}/arrived", json={"at": ago(5)}, headers=crew)
        assert changed.status_code == 404  # before issue 9: every crew could change it
    assert (await client.get(url, headers=supervisor)).status_code == 200


async def test_handovers_show_non_supervisors_only_their_own(
    client, handler, supervisor, area, admin
):
    first = (await new_incident(client, handler))["id"]
    second = (await new_incident(client, handler))["id"]
    await detain(client, area["tc1"], first, area["place"], arrived=True)
    await detain(client, area["tc2"], second, area["place"], arrived=True)

    async def board(headers):
        response = await client.get("/api/v1/handovers?state=open", headers=headers)
        return response.status_code, sorted(
            r["incident_id"] for r in response.json() if response.status_code == 200
        )

    assert await board(supervisor) == (200, sorted([first, second]))
    assert await board(area["tc1"]) == (200, [first])
    assert await board(area["tc2"]) == (200, [second])
    assert await board(area["nurse"]) == (200, [])  # consulted on neither
    assert (await board(handler))[0] == 403
    assert (await board(admin))[0] == 403


async def test_a_crews_access_ends_a_set_time_after_its_unit_cleared(
    client, handler, admin, area, session
):
    created = await new_incident(client, handler, **{"person.name": "Sam Example"})
    job = offer_to(created, "TC1")
    tc1 = area["tc1"]
    url = f"/api/v1/incidents/{created['id']}"
    assert (await client.get(url, headers=tc1)).status_code == 404  # offered, not taken
    await act(client, tc1, job, "accept")
    await act(client, tc1, job, "status", {"status": "cleared"})
    after_clearing = await client.get(url, headers=tc1)
    assert after_clearing.status_code == 200
    assert after_clearing.json()["person"]["name"] == "Sam Example"

    await session.execute(
        text("UPDATE assignments SET updated_at = now() - interval '13 hours' WHERE id = :id"),
        {"id": job},
    )
    await session.commit()
    lapsed = await client.get(url, headers=tc1)
    assert lapsed.status_code == 404 and "Sam" not in lapsed.text  # before: full access forever
    # The area's setting decides.
    longer = await client.patch(
        "/api/v1/areas/default", json={"crew_access_hours": 24}, headers=admin
    )
    assert longer.status_code == 200 and longer.json()["crew_access_hours"] == 24
    assert (await client.get(url, headers=tc1)).status_code == 200
    assert (await client.get(url, headers=handler)).status_code == 200  # the desk's, always


async def test_nurse_advice_reaches_only_the_asking_unit_and_supervisors(
    client, handler, supervisor, area, session
):
    nurse, tc1 = area["nurse"], area["tc1"]
    asked = await new_incident(client, handler, **ADVICE_CALL)
    # The officer on scene is TC1's crew: dispatched to it by hand, accepted.
    car = await client.post(
        f"/api/v1/incidents/{asked['id']}/dispatch", json={"unit": "TC1"}, headers=supervisor
    )
    assert car.status_code == 201, car.text
    await act(client, tc1, car.json()["id"], "accept")
    desk_job = offer_to(asked, "DESK1")
    await act(client, nurse, desk_job, "accept")
    advice = "Known to CMHT: crisis team will see her tonight."
    answered = await act(client, nurse, desk_job, "advice", {"advice": advice, "s136_used": False})
    assert answered["advice"] == advice  # the desk sees its own

    def advice_of(body):
        return next(a for a in body["assignments"] if a["id"] == desk_job)["advice"]

    url = f"/api/v1/incidents/{asked['id']}"
    assert advice_of((await client.get(url, headers=handler)).json()) is None
    assert advice_of((await client.get(url, headers=supervisor)).json()) == advice
    assert advice_of((await client.get(url, headers=tc1)).json()) == advice  # the asking unit
    listed = (await client.get("/api/v1/incidents", headers=handler)).json()["items"]
    assert all(a["advice"] is None for i in listed for a in i["assignments"])
    # Live: the event reaches call handlers without it (their rendering has no `restricted`).
    events = list(
        await session.scalars(
            select(Event).where(Event.incident_id == asked["id"], Event.type.like("assignment.%"))
        )
    )
    answered_event = next(e for e in events if e.restricted and e.restricted.get("advice"))
    assert "advice" not in answered_event.data and "s136_used" not in answered_event.data
    assert answered_event.unit_callsign == "DESK1"
    assert all(advice not in str(e.data) for e in events)


async def test_refusals_do_not_name_the_owner(client, handler, area):
    created = await new_incident(client, handler)
    job = offer_to(created, "TC1")
    refused = await client.post(f"/api/v1/assignments/{job}/accept", headers=area["tc2"])
    assert refused.status_code == 403
    assert "TC1" not in refused.text  # before issue 9: "Assignment N is for TC1"
    await act(client, area["tc1"], job, "accept")
    await detain(client, area["tc1"], created["id"], area["place"])
    hidden = await client.get(f"/api/v1/incidents/{created['id']}/s136", headers=area["tc2"])
    assert hidden.status_code == 404 and "TC1" not in hidden.text and "unit" not in hidden.text


async def test_a_call_handler_may_reassign(client, handler, area):
    created = await new_incident(client, handler)
    job = offer_to(created, "TC1")
    moved = await client.post(
        f"/api/v1/assignments/{job}/reassign", json={"unit": "TC2"}, headers=handler
    )
    assert moved.status_code == 200, moved.text  # before issue 9: always 403 from the service
    assert moved.json()["unit"] == "TC2" and moved.json()["status"] == "offered"
    forced = await client.post(
        f"/api/v1/assignments/{moved.json()['id']}/reassign",
        json={"unit": "TC1", "force": True},
        headers=handler,
    )
    assert forced.status_code == 403  # forcing a busy unit stays a supervisor's call


async def test_state_changes_are_audited(client, handler, admin, area, session):
    created = await new_incident(client, handler)
    tc1 = area["tc1"]
    await act(client, tc1, offer_to(created, "TC1"), "decline", {"reason": "already committed"})
    now = (await client.get(f"/api/v1/incidents/{created['id']}", headers=handler)).json()
    moved_on = offer_to(now, "TC2")  # the service offered the next car
    back = await act(client, handler, moved_on, "reassign", {"unit": "TC1"})  # by hand
    await act(client, tc1, back["id"], "accept")
    await act(client, tc1, back["id"], "status", {"status": "en_route"})
    await act(client, tc1, back["id"], "status", {"status": "cleared"})
    asked = await new_incident(client, handler, **ADVICE_CALL)
    desk_job = offer_to(asked, "DESK1")
    await act(client, area["nurse"], desk_job, "accept")
    await act(client, area["nurse"], desk_job, "advice", {"advice": "x", "s136_used": False})
    area_change = await client.patch(
        "/api/v1/areas/default", json={"stale_job_minutes": 25}, headers=admin
    )
    assert area_change.status_code == 200

    rows = list(
        await session.scalars(
            select(AuditEntry)
            .where(AuditEntry.subject_id.in_([str(created["id"]), str(asked["id"]), "default"]))
            .order_by(AuditEntry.id)
        )
    )
    trail = [(r.action, r.actor_role) for r in rows]
    for expected in [
        ("assignment.offered", "system"),  # the service's own dispatch
        ("assignment.declined", "crew"),
        ("assignment.cancelled", "call_handler"),  # the reassign
        ("assignment.offered", "call_handler"),  # by hand
        ("assignment.accepted", "crew"),
        ("assignment.en_route", "crew"),
        ("assignment.cleared", "crew"),
        ("incident.close", "crew"),  # closed by itself when the last unit cleared
        ("assignment.cleared", "nurse"),  # the advice
        ("area.update", "admin"),
    ]:
        assert expected in trail, expected
    advice_row = next(r for r in rows if r.actor_role == "nurse" and r.detail.get("advice"))
    assert advice_row.detail["s136_used"] is False and "x" not in advice_row.detail.values()
    declined = next(r for r in rows if r.action == "assignment.declined")
    assert "already committed" not in str(declined.detail)  # free text stays in the record
    area_row = next(r for r in rows if r.action == "area.update")
    assert area_row.detail["changed"]["stale_job_minutes"] == {"from": 20, "to": 25}


async def test_a_replay_sends_old_summaries_only_while_the_unit_may_see_them(start_server):
    """A tablet resuming with `after` gets the events it missed (kept a day); the nurse desk's
    summary (caller, circumstances) goes with them only within its access window."""
    import asyncpg
    import httpx
    from sqlalchemy.engine import make_url

    from tests.factories import incident
    from tests.live import add_user, connect, online, receive_until

    server = await start_server()
    db = server.database_url
    supervisor, handler = await add_user(db, "supervisor"), await add_user(db, "call_handler")
    async with httpx.AsyncClient(base_url=server.url) as client:
        await add_unit(client, supervisor["headers"], "DESK1", kind="nurse_desk")
        nurse = await add_user(db, "nurse", unit="DESK1")
        async with connect(server.ws_url(nurse["token"])) as ws:
            await online(ws)
            created = (
                await client.post(
                    "/api/v1/incidents", json=incident(**ADVICE_CALL), headers=handler["headers"]
                )
            ).json()
            offer = await receive_until(ws, lambda m: m.get("type") == "assignment.offered")
            assert offer["data"]["incident"]["caller"]["phone"] == "07700 900123"
        job = offer_to(created, "DESK1")
        for action, body in (("accept", None), ("advice", {"advice": "x", "s136_used": False})):
            r = await client.post(
                f"/api/v1/assignments/{job}/{action}", json=body, headers=nurse["headers"]
            )
            assert r.status_code == 200, r.text

    async def replayed_offer() -> dict:
        async with connect(server.ws_url(nurse["token"], after=offer["id"] - 1)) as ws:
            return await receive_until(ws, lambda m: m.get("id") == offer["id"])

    assert "incident" in (await replayed_offer())["data"]  # cleared moments ago: still shown
    owner = await asyncpg.connect(
        make_url(db).set(drivername="postgresql").render_as_string(hide_password=False)
    )
    try:
        await owner.execute(
            "UPDATE assignments SET updated_at = now() - interval '13 hours' WHERE id = $1", job
        )
    finally:
        await owner.close()
    later = await replayed_offer()
    assert later["type"] == "assignment.offered" and "incident" not in later["data"]
    assert "07700" not in json.dumps(later)
