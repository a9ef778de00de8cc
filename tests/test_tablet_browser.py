"""The crew tablet in a real headless Chromium against a real server: an offer sounds and is
accepted, the s136 record is made through the page, the handover clock runs, and an arrival
pressed while the tablet is offline reaches the server exactly once, at the time it was pressed,
when the connection is back; an offer made while offline appears after reconnecting."""

import re
from datetime import UTC, datetime

import asyncpg
import httpx
from playwright.async_api import expect
from sqlalchemy.engine import make_url

from tests.browser import SCREENSHOTS, browser, needs_chromium, sign_in
from tests.factories import incident
from tests.live import add_user

VIEWPORT = {"width": 1280, "height": 800}


def dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def count_events(database_url: str, type_: str, incident_id: int) -> int:
    connection = await asyncpg.connect(dsn(database_url))
    try:
        return await connection.fetchval(
            "SELECT count(*) FROM events WHERE type = $1 AND incident_id = $2", type_, incident_id
        )
    finally:
        await connection.close()


async def setup_area(client: httpx.AsyncClient, supervisor: dict) -> dict[str, dict]:
    r = await client.post(
        "/api/v1/units",
        json={
            "callsign": "TC1",
            "kind": "triage_car",
            "status": "available",
            "lat": 52.95,
            "lon": -1.15,
            "crew": [{"name": "PC Hale", "role": "officer"}, {"name": "RMN Shah", "role": "nurse"}],
        },
        headers=supervisor["headers"],
    )
    assert r.status_code == 201, r.text
    places = {}
    for body in (
        {
            "name": "Highbury s136 suite",
            "type": "health_based_place_of_safety",
            "available_beds": 2,
            "accepts_under_18": True,
            "exclusions": "Needs medical clearance first if heavily intoxicated",
        },
        {
            "name": "QMC Emergency Department",
            "type": "emergency_department",
            "available_beds": 0,
            "accepts_under_18": True,
        },
        {
            "name": "Bridewell custody suite",
            "type": "police_station",
            "available_beds": 4,
            "accepts_under_18": False,
        },
    ):
        r = await client.post("/api/v1/places-of-safety", json=body, headers=supervisor["headers"])
        assert r.status_code == 201, r.text
        places[body["type"]] = r.json()
    return places


async def assignment_status(client, supervisor, assignment_id: int) -> dict | None:
    r = await client.get(
        "/api/v1/assignments", params={"active": "false"}, headers=supervisor["headers"]
    )
    assert r.status_code == 200, r.text
    return next((a for a in r.json() if a["id"] == assignment_id), None)


@needs_chromium
async def test_crew_tablet_offer_s136_and_offline_arrival(start_server):
    server = await start_server()
    db = server.database_url
    supervisor = await add_user(db, "supervisor")
    handler = await add_user(db, "call_handler")
    crew = await add_user(db, "crew", unit="TC1", username="crew-tc1")
    async with httpx.AsyncClient(base_url=server.url) as client:
        places = await setup_area(client, supervisor)
        suite = places["health_based_place_of_safety"]

        async with browser() as chromium:
            context = await chromium.new_context(viewport=VIEWPORT, reduced_motion="reduce")
            page = await context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            await page.goto(f"{server.url}/tablet")
            await sign_in(page, "crew-tc1")
            status = page.get_by_test_id("connection-status")
            await expect(status).to_have_text("live", timeout=10_000)

            # --- an offer arrives: alert with the need-to-know summary
            caller = {"name": "Jo Bloggs", "role": "member of the public", "phone": "07700 900456"}
            body = incident(
                caller=caller,
                **{"context.crisis_plan": True},
            )
            r = await client.post("/api/v1/incidents", json=body, headers=handler["headers"])
            assert r.status_code == 201, r.text
            created = r.json()
            incident_id = created["id"]
            offer = next(a for a in created["assignments"] if a["unit"] == "TC1")
            card = page.locator(f'[data-testid="offer-card"][data-assignment-id="{offer["id"]}"]')
            await card.wait_for(timeout=10_000)
            await expect(card.get_by_test_id("offer-location")).to_contain_text("Trent Bridge")
            await expect(card.get_by_test_id("offer-risks")).to_contain_text("Suicidal")
            await expect(card.get_by_test_id("offer-risks")).to_contain_text(
                "Immediate risk to life"
            )
            await expect(card.get_by_test_id("offer-flags")).to_contain_text("Crisis plan")
            await expect(card.get_by_test_id("offer-caller")).to_contain_text("Jo Bloggs")
            await expect(card.get_by_test_id("offer-countdown")).to_contain_text("Accept within")
            # the alert went off (sound and/or vibration where the device allows, always visual)
            alerted = re.compile(r"sound|vibrate|visual")
            await expect(card).to_have_attribute("data-alerted", alerted)
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            await page.screenshot(path=str(SCREENSHOTS / "tablet-offer.png"))

            # --- accept in the page; the API has it
            await card.get_by_test_id("accept").click()
            job = page.get_by_test_id("job-card")
            await expect(job).to_have_attribute("data-status", "accepted")
            await expect(page.get_by_test_id("pending-count")).to_have_text("0")
            row = await assignment_status(client, supervisor, offer["id"])
            assert row["status"] == "accepted", row
            await page.get_by_test_id("status-en_route").click()
            await expect(job).to_have_attribute("data-status", "en_route")
            await page.get_by_test_id("status-on_scene").click()
            await expect(job).to_have_attribute("data-status", "on_scene")
            await expect(page.get_by_test_id("pending-count")).to_have_text("0")
            assert (await assignment_status(client, supervisor, offer["id"]))["status"] == (
                "on_scene"
            )

            # --- the s136 record through the page; an incomplete form is refused field by field
            await page.get_by_test_id("s136-start").click()
            await page.get_by_test_id("s136-submit").click()
            await expect(
                page.locator('[data-testid="field-error"][data-field="detained_at"]')
            ).to_be_visible()
            await expect(
                page.locator('[data-testid="field-error"][data-field="vehicle"]')
            ).to_be_visible()
            await page.get_by_test_id("s136-consulted-who").select_option("mh_nurse")
            await page.get_by_test_id("s136-consulted-now").click()
            await page.get_by_test_id("s136-detained-now").click()
            place = page.get_by_test_id("s136-place")
            # every place is offered, the full one too, with its beds and exclusions
            options = await place.locator("option").all_inner_texts()
            assert any("QMC Emergency Department" in o and "0 beds" in o for o in options), options
            assert any("medical clearance" in o for o in options), options
            await place.select_option(str(suite["id"]))
            await page.get_by_test_id("s136-vehicle").select_option("ambulance")
            await page.get_by_test_id("s136-ethnicity").select_option("white")
            await expect(page.get_by_test_id("s136-age")).to_have_value("34")
            await page.get_by_test_id("s136-submit").click()
            clock = page.get_by_test_id("handover-clock")
            await expect(clock).to_be_visible()
            await expect(clock).to_have_attribute("data-state", "not_started")
            await expect(page.get_by_test_id("pending-count")).to_have_text("0")
            r = await client.get(f"/api/v1/incidents/{incident_id}/s136", headers=crew["headers"])
            assert r.status_code == 200, r.text
            detention = r.json()
            assert detention["consulted"]["who"] == "mh_nurse"
            assert detention["place_of_safety_id"] == suite["id"]
            assert detention["vehicle"] == "ambulance"
            assert detention["person"] == {"age": 34, "gender": "male", "ethnicity": "white"}
            assert detention["arrived_at"] is None

            # --- the connection drops; the crew presses "arrived" all the same
            await context.set_offline(True)
            await expect(status).to_have_text("offline", timeout=10_000)
            await expect(page.get_by_test_id("offline-banner")).to_be_visible()
            pressed = datetime.now(UTC)
            await page.get_by_test_id("s136-arrived").click()
            await expect(page.get_by_test_id("pending-count")).to_have_text("1")
            await expect(clock).to_have_attribute("data-state", "waiting")
            elapsed = page.get_by_test_id("handover-elapsed")
            await expect(elapsed).to_have_text(re.compile(r"^00:0\d$"))
            await page.screenshot(path=str(SCREENSHOTS / "tablet-offline.png"))

            # meanwhile the supervisor sends this car a second job (forced: it is busy)
            second = await client.post(
                "/api/v1/incidents",
                json=incident(**{"location.description": "Victoria Embankment steps"}),
                headers=handler["headers"],
            )
            assert second.status_code == 201, second.text
            second_id = second.json()["id"]
            r = await client.post(
                f"/api/v1/incidents/{second_id}/dispatch",
                json={"kind": "triage_car", "unit": "TC1", "force": True},
                headers=supervisor["headers"],
            )
            assert r.status_code == 201, r.text
            second_offer = r.json()
            await page.wait_for_timeout(1500)
            second_card = page.locator(
                f'[data-testid="offer-card"][data-assignment-id="{second_offer["id"]}"]'
            )
            assert await second_card.count() == 0  # offline: nothing comes through
            r = await client.get(f"/api/v1/incidents/{incident_id}/s136", headers=crew["headers"])
            assert r.json()["arrived_at"] is None  # and nothing went out

            # --- back online: the arrival goes once, at the time it was pressed
            await context.set_offline(False)
            await expect(page.get_by_test_id("pending-count")).to_have_text("0", timeout=15_000)
            await expect(status).to_have_text("live", timeout=15_000)
            await expect(page.get_by_test_id("offline-banner")).to_be_hidden()
            r = await client.get(f"/api/v1/incidents/{incident_id}/s136", headers=crew["headers"])
            arrived_at = datetime.fromisoformat(r.json()["arrived_at"])
            assert abs((arrived_at - pressed).total_seconds()) < 1.0, (arrived_at, pressed)
            handover = next(c for c in r.json()["clocks"] if c["kind"] == "handover")
            assert handover["state"] == "waiting"
            r = await client.get(
                "/api/v1/handovers", params={"state": "open"}, headers=supervisor["headers"]
            )
            assert [h["incident_id"] for h in r.json()].count(incident_id) == 1, r.json()
            assert await count_events(db, "handover.started", incident_id) == 1

            # the offer made while offline is there after reconnecting (replayed, not missed)
            await second_card.wait_for(timeout=10_000)
            await expect(second_card.get_by_test_id("offer-location")).to_contain_text(
                "Victoria Embankment"
            )
            # decline it: a reason is required
            await second_card.get_by_test_id("decline").click()
            await second_card.get_by_test_id("decline-submit").click()
            await expect(
                second_card.locator('[data-testid="field-error"][data-field="reason"]')
            ).to_be_visible()
            await second_card.get_by_test_id("decline-reason").fill("Committed to a s136 handover")
            await second_card.get_by_test_id("decline-submit").click()
            await second_card.wait_for(state="detached", timeout=10_000)
            await expect(page.get_by_test_id("pending-count")).to_have_text("0")
            row = await assignment_status(client, supervisor, second_offer["id"])
            assert row["status"] == "declined" and row["decline_reason"].startswith("Committed")

            await expect(clock).to_have_attribute("data-state", "waiting")
            await expect(elapsed).to_have_text(re.compile(r"^\d\d:\d\d$"))
            await page.screenshot(path=str(SCREENSHOTS / "tablet-s136-clock.png"))

            # --- handed over: the clock stops
            await page.get_by_test_id("s136-received-by").fill("RMN Obi, Highbury")
            await page.get_by_test_id("s136-handover").click()
            await expect(clock).to_have_attribute("data-state", "handed_over", timeout=10_000)
            await expect(page.get_by_test_id("pending-count")).to_have_text("0")
            r = await client.get(f"/api/v1/incidents/{incident_id}/s136", headers=crew["headers"])
            assert r.json()["received_by"] == "RMN Obi, Highbury"
            assert await count_events(db, "handover.started", incident_id) == 1
            assert errors == [], errors


@needs_chromium
async def test_tablet_reports_a_refused_action_and_keeps_a_draft_across_reloads(start_server):
    server = await start_server()
    db = server.database_url
    admin = await add_user(db, "admin")
    supervisor = await add_user(db, "supervisor")
    handler = await add_user(db, "call_handler")
    crew = await add_user(db, "crew", unit="TC1", username="crew-tc1b")
    async with httpx.AsyncClient(base_url=server.url) as client:
        r = await client.patch(
            "/api/v1/areas/default", json={"ack_timeout_seconds": 10}, headers=admin["headers"]
        )
        assert r.status_code == 200, r.text
        places = await setup_area(client, supervisor)
        suite = places["health_based_place_of_safety"]

        async with browser() as chromium:
            context = await chromium.new_context(viewport=VIEWPORT, reduced_motion="reduce")
            page = await context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            await page.goto(f"{server.url}/tablet")
            await sign_in(page, "crew-tc1b")
            status = page.get_by_test_id("connection-status")
            await expect(status).to_have_text("live", timeout=10_000)

            # --- accepted while offline, but the offer expired before the accept could go
            r = await client.post("/api/v1/incidents", json=incident(), headers=handler["headers"])
            offer = r.json()["assignments"][0]
            card = page.locator(f'[data-testid="offer-card"][data-assignment-id="{offer["id"]}"]')
            await card.wait_for(timeout=10_000)
            await context.set_offline(True)
            await expect(status).to_have_text("offline", timeout=10_000)
            await card.get_by_test_id("accept").click()
            await expect(page.get_by_test_id("pending-count")).to_have_text("1")
            await expect(page.get_by_test_id("job-card")).to_have_attribute(
                "data-status", "accepted"
            )
            for _ in range(100):
                row = await assignment_status(client, supervisor, offer["id"])
                if row["status"] == "expired":
                    break
                await page.wait_for_timeout(200)
            assert row["status"] == "expired", row
            await context.set_offline(False)
            await expect(page.get_by_test_id("notice")).to_contain_text("expired", timeout=15_000)
            await expect(page.get_by_test_id("pending-count")).to_have_text("0")
            await expect(page.get_by_test_id("job-card")).to_be_hidden()
            await expect(card).to_have_count(0)
            await page.get_by_test_id("notice-close").click()

            # --- a new job: the s136 draft survives a reload, with the time pressed before it
            r = await client.post("/api/v1/incidents", json=incident(), headers=handler["headers"])
            incident_id = r.json()["id"]
            offer = next(a for a in r.json()["assignments"] if a["unit"] == "TC1")
            card = page.locator(f'[data-testid="offer-card"][data-assignment-id="{offer["id"]}"]')
            await card.get_by_test_id("accept").click()
            await expect(page.get_by_test_id("job-card")).to_have_attribute(
                "data-status", "accepted"
            )
            await page.get_by_test_id("s136-start").click()
            await page.get_by_test_id("s136-consulted-who").select_option("none")
            await page.get_by_test_id("s136-not-consulted-reason").fill(
                "Immediate risk: no time to consult"
            )
            detained = datetime.now(UTC)
            await page.get_by_test_id("s136-detained-now").click()
            await page.get_by_test_id("s136-place").select_option(str(suite["id"]))
            await page.reload()
            await expect(status).to_have_text("live", timeout=10_000)
            await expect(page.get_by_test_id("s136-consulted-who")).to_have_value("none")
            await expect(page.get_by_test_id("s136-not-consulted-reason")).to_have_value(
                "Immediate risk: no time to consult"
            )
            await expect(page.get_by_test_id("s136-place")).to_have_value(str(suite["id"]))
            await expect(page.get_by_test_id("s136-detained-value")).to_contain_text("✔")
            # a police vehicle needs its reasons (S6)
            await page.get_by_test_id("s136-vehicle").select_option("police_vehicle")
            await page.get_by_test_id("s136-submit").click()
            await expect(
                page.locator('[data-testid="field-error"][data-field="police_vehicle_reason"]')
            ).to_be_visible()
            await page.get_by_test_id("s136-ambulance-requested").select_option("yes")
            await page.get_by_test_id("s136-police-vehicle-reason").fill(
                "No ambulance available within 30 minutes"
            )
            await page.get_by_test_id("s136-submit").click()
            await expect(page.get_by_test_id("handover-clock")).to_be_visible()
            await expect(page.get_by_test_id("pending-count")).to_have_text("0")
            r = await client.get(f"/api/v1/incidents/{incident_id}/s136", headers=crew["headers"])
            assert r.status_code == 200, r.text
            record = r.json()
            recorded = datetime.fromisoformat(record["detained_at"])
            assert abs((recorded - detained).total_seconds()) < 1.0, (recorded, detained)
            assert record["consulted"] is None
            assert record["not_consulted_reason"].startswith("Immediate risk")
            assert record["vehicle"] == "police_vehicle" and record["ambulance_requested"] is True
            assert errors == [], errors
