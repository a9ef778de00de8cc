"""The crew tablet in a real headless Chromium against a real server: an offer sounds and is
accepted, the s136 record is made through the page, the handover clock runs, and an arrival
pressed while the tablet is offline reaches the server exactly once, at the time it was pressed,
when the connection is back; an offer made while offline appears after reconnecting."""

import asyncio
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

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


async def crew_connected(database_url: str, callsign: str) -> None:
    """Wait until the server counts the unit's crew as connected (offers go only to such units):
    the page shows "live" when its socket opens, a moment before the server registers it."""
    connection = await asyncpg.connect(dsn(database_url))
    try:
        for _ in range(100):
            if await connection.fetchval(
                "SELECT count(*) FROM unit_presence p JOIN units u ON u.id = p.unit_id"
                " WHERE u.callsign = $1",
                callsign,
            ):
                return
            await asyncio.sleep(0.1)
    finally:
        await connection.close()
    raise AssertionError(f"{callsign}'s crew never counted as connected")


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
            context = await chromium.new_context(
                viewport=VIEWPORT, reduced_motion="reduce", locale="en-GB"
            )
            page = await context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            await page.goto(f"{server.url}/tablet")
            await sign_in(page, "crew-tc1")
            status = page.get_by_test_id("connection-status")
            await expect(status).to_have_text("live", timeout=10_000)
            await crew_connected(db, "TC1")

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
            context = await chromium.new_context(
                viewport=VIEWPORT, reduced_motion="reduce", locale="en-GB"
            )
            page = await context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            await page.goto(f"{server.url}/tablet")
            await sign_in(page, "crew-tc1b")
            status = page.get_by_test_id("connection-status")
            await expect(status).to_have_text("live", timeout=10_000)
            await crew_connected(db, "TC1")

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


# ---------------------------------------------------------------- issue 8: the tablet's mitigations
LONDON = ZoneInfo("Europe/London")
# TC1 is at (52.95, -1.15). For a 15-year-old the CAMHS place (takes under-18s, a bed free) comes
# first, though the adult suite is nearer; the full custody suite comes last, greyed (S3).
RANKED_PLACES = {
    "camhs": {
        "name": "Hopewood CAMHS suite",
        "type": "health_based_place_of_safety",
        "available_beds": 1,
        "accepts_under_18": True,
        "lat": 52.98,
        "lon": -1.15,
    },
    "adult_suite": {
        "name": "Highbury s136 suite",
        "type": "health_based_place_of_safety",
        "available_beds": 2,
        "accepts_under_18": False,
        "exclusions": "Needs medical clearance first if heavily intoxicated",
        "lat": 52.96,
        "lon": -1.15,
    },
    "ed": {
        "name": "QMC Emergency Department",
        "type": "emergency_department",
        "available_beds": 0,
        "accepts_under_18": True,
        "lat": 52.943,
        "lon": -1.185,
    },
    "custody": {
        "name": "Bridewell custody suite",
        "type": "police_station",
        "available_beds": 0,
        "accepts_under_18": False,
        "lat": 52.99,
        "lon": -1.10,
    },
}
# A teenager self-harming in a park: a triage car, not risk to life.
CHILD_SELF_HARM = {
    "person.age": 15,
    "person.description": "girl, 15, grey hoodie",
    "person.gender": "female",
    "location.description": "Arboretum, by the bandstand",
    "risk.immediate_risk_to_life": False,
    "risk.suicidal": False,
    "risk.self_harm": True,
}


async def setup_ranked_area(client: httpx.AsyncClient, supervisor: dict) -> dict[str, dict]:
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
    for key, body in RANKED_PLACES.items():
        r = await client.post("/api/v1/places-of-safety", json=body, headers=supervisor["headers"])
        assert r.status_code == 201, r.text
        places[key] = r.json()
    return places


async def open_tablet(chromium, server, db: str, username: str, *, clock_at=None):
    """The tablet signed in, its crew connected; JavaScript errors collected. `clock_at`: the
    page's clock starts there (Playwright's clock), so a test does not depend on the hour."""
    context = await chromium.new_context(
        viewport=VIEWPORT, reduced_motion="reduce", timezone_id="Europe/London", locale="en-GB"
    )
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    if clock_at is not None:
        await page.clock.install(time=clock_at)
    await page.goto(f"{server.url}/tablet")
    await sign_in(page, username)
    await expect(page.get_by_test_id("connection-status")).to_have_text("live", timeout=10_000)
    await crew_connected(db, "TC1")
    return page, errors


async def offer_and_accept(page, client, handler: dict, body: dict) -> int:
    r = await client.post("/api/v1/incidents", json=body, headers=handler["headers"])
    assert r.status_code == 201, r.text
    created = r.json()
    offer = next(a for a in created["assignments"] if a["unit"] == "TC1")
    card = page.locator(f'[data-testid="offer-card"][data-assignment-id="{offer["id"]}"]')
    await card.get_by_test_id("accept").click()
    await expect(page.get_by_test_id("job-card")).to_have_attribute("data-status", "accepted")
    return created["id"]


def field_error(page, field: str, rule: str | None = None):
    selector = f'[data-testid="field-error"][data-field="{field}"]'
    if rule:
        selector += f'[data-rule="{rule}"]'
    return page.locator(selector)


async def detention(client, crew: dict, incident_id: int) -> httpx.Response:
    return await client.get(f"/api/v1/incidents/{incident_id}/s136", headers=crew["headers"])


def day_label(moment: datetime) -> str:
    """ "Tue 1 Dec", as the tablet shows a date (en-GB)."""
    return f"{moment:%a} {moment.day} {moment:%b}"


@needs_chromium
async def test_places_ranked_for_a_child_and_a_place_not_for_children_needs_a_reason_and_is_flagged(
    start_server,
):
    server = await start_server()
    db = server.database_url
    supervisor = await add_user(db, "supervisor")
    handler = await add_user(db, "call_handler")
    crew = await add_user(db, "crew", unit="TC1", username="crew-rank")
    async with httpx.AsyncClient(base_url=server.url) as client:
        places = await setup_ranked_area(client, supervisor)
        async with browser() as chromium:
            page, errors = await open_tablet(chromium, server, db, "crew-rank")
            incident_id = await offer_and_accept(page, client, handler, incident(**CHILD_SELF_HARM))
            await page.get_by_test_id("s136-start").click()

            # --- the cards: suitable with beds first, the full custody suite last, greyed (S3)
            cards = page.get_by_test_id("place-option")
            await expect(cards).to_have_count(4)
            order = await cards.evaluate_all(
                "els => els.map(e => [Number(e.dataset.placeId), e.dataset.suitable])"
            )
            assert order == [
                [places["camhs"]["id"], "true"],
                [places["ed"]["id"], "true"],
                [places["adult_suite"]["id"], "false"],
                [places["custody"]["id"], "false"],
            ], order
            custody = cards.last
            await expect(custody).to_have_class(re.compile(r"\bunsuitable\b"))
            await expect(custody).to_have_attribute("data-rule", "S3")
            await expect(custody.get_by_test_id("place-why")).to_contain_text("S3")
            await expect(custody.get_by_test_id("place-why")).to_contain_text("under 18")
            await expect(cards.first).to_contain_text("Hopewood CAMHS suite")
            await expect(cards.first).to_contain_text("3.3 km")  # distance from the car
            # the select in the same order, the unsuitable ones said so, none hidden
            options = page.get_by_test_id("s136-place").locator("option")
            texts = await options.all_inner_texts()
            assert len(texts) == 5, texts
            assert texts[1].startswith("Hopewood CAMHS suite"), texts
            assert texts[4].startswith("Bridewell custody suite") and "not suitable: S3" in texts[4]
            assert "not suitable: S5" in texts[3] and "medical clearance" in texts[3]
            await page.get_by_test_id("place-list").scroll_into_view_if_needed()
            await page.screenshot(path=str(SCREENSHOTS / "tablet-places-child.png"))

            # --- a police station for a child is refused at once (S3), with the rule id
            await custody.click()
            await expect(field_error(page, "place_of_safety_id", "S3")).to_be_visible()
            # --- a place that does not take under-18s: allowed with a reason, flagged (S5)
            await page.locator(
                f'[data-testid="place-option"][data-place-id="{places["adult_suite"]["id"]}"]'
            ).click()
            await expect(field_error(page, "place_of_safety_id", "S3")).to_have_count(0)
            await expect(field_error(page, "place_of_safety_id", "S5")).to_contain_text(
                "flagged for review"
            )
            reason = page.get_by_test_id("s136-under-18-place-reason")
            await expect(reason).to_be_visible()
            await page.get_by_test_id("s136-consulted-who").select_option("mh_nurse")
            await page.get_by_test_id("s136-consulted-now").click()
            await page.get_by_test_id("s136-detained-now").click()
            await page.get_by_test_id("s136-vehicle").select_option("ambulance")
            await page.get_by_test_id("s136-submit").click()
            await expect(field_error(page, "under_18_place_reason", "S5")).to_be_visible()
            await expect(page.get_by_test_id("pending-count")).to_have_text("0")
            assert (await detention(client, crew, incident_id)).status_code == 404

            await reason.fill("Hopewood cannot take her safely tonight: agreed with its nurse")
            await page.get_by_test_id("s136-submit").click()
            await expect(page.get_by_test_id("handover-clock")).to_be_visible()
            await expect(page.get_by_test_id("pending-count")).to_have_text("0")
            record = (await detention(client, crew, incident_id)).json()
            assert record["place_of_safety_id"] == places["adult_suite"]["id"]
            assert record["under_18_place_reason"].startswith("Hopewood cannot")
            assert "under_18_unsuitable_place" in record["flags"] and record["review_required"]
            await expect(page.get_by_test_id("s136-summary")).to_contain_text("flagged for review")
            assert errors == [], errors


@needs_chromium
async def test_unknown_age_at_a_police_station_and_s136_in_a_private_dwelling(start_server):
    server = await start_server()
    db = server.database_url
    supervisor = await add_user(db, "supervisor")
    handler = await add_user(db, "call_handler")
    crew = await add_user(db, "crew", unit="TC1", username="crew-law")
    async with httpx.AsyncClient(base_url=server.url) as client:
        places = await setup_ranked_area(client, supervisor)
        async with browser() as chromium:
            page, errors = await open_tablet(chromium, server, db, "crew-law")
            body = incident(
                **{
                    "person.age": None,
                    "location.kind": "private_dwelling",
                    "location.description": "14 Elm Road, first floor flat",
                }
            )
            incident_id = await offer_and_accept(page, client, handler, body)
            await page.get_by_test_id("s136-start").click()

            # --- found in: the call's location kind; s136 in a private dwelling refused (S9)
            found_in = page.get_by_test_id("s136-found-in")
            await expect(found_in).to_have_value("private_dwelling")
            s9 = field_error(page, "found_in", "S9")
            await expect(s9).to_contain_text("s135 with a warrant")
            await expect(page.get_by_test_id("s136-found-in-hint")).to_contain_text(
                "somewhere else"
            )
            await found_in.evaluate("e => e.scrollIntoView({block: 'start'})")
            await page.screenshot(path=str(SCREENSHOTS / "tablet-s9-private-dwelling.png"))
            # detained outside, in the street: the crew says so and s136 is allowed
            await found_in.select_option("public_place")
            await expect(s9).to_have_count(0)
            # detained in the flat after all: s135, which needs the warrant (S9)
            await found_in.select_option("private_dwelling")
            await expect(s9).to_be_visible()
            await page.get_by_test_id("s136-power").select_option("s135")
            await expect(s9).to_have_count(0)
            await expect(page.get_by_test_id("s136-warrant-issued-by")).to_be_visible()

            await page.get_by_test_id("s136-consulted-who").select_option("amhp")
            await page.get_by_test_id("s136-consulted-now").click()
            await page.get_by_test_id("s136-detained-now").click()
            # --- age unknown at a police station: the believed-adult reason is asked (S3)
            await page.get_by_test_id("s136-place").select_option(str(places["custody"]["id"]))
            believed = page.get_by_test_id("s136-believed-adult-reason")
            await expect(believed).to_be_visible()
            await page.get_by_test_id("s136-vehicle").select_option("ambulance")
            await page.get_by_test_id("s136-submit").click()
            await expect(field_error(page, "warrant", "S9")).to_be_visible()
            await expect(field_error(page, "believed_adult_reason", "S3")).to_be_visible()
            await expect(field_error(page, "police_station_reason", "S4")).to_be_visible()
            await expect(field_error(page, "authorised_by", "S4")).to_be_visible()
            assert (await detention(client, crew, incident_id)).status_code == 404

            await page.get_by_test_id("s136-warrant-issued-by").fill("District Judge Patel")
            issued = await page.evaluate(
                """() => {
                  const d = new Date(Date.now() - 2 * 3600e3);
                  const p = (n) => String(n).padStart(2, '0');
                  const day = `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
                  return `${day}T${p(d.getHours())}:${p(d.getMinutes())}`;
                }"""
            )
            await page.get_by_test_id("s136-warrant-issued-at").fill(issued)
            await believed.fill("Says he is 40, driving licence on the table")
            await page.get_by_test_id("s136-police-station-reason").fill(
                "Violent and armed: no health-based place can hold him safely"
            )
            await page.get_by_test_id("s136-authorised-by").fill("Insp. Grant 4411")
            await page.locator("#s136-choice-fields").evaluate(
                "e => e.scrollIntoView({block: 'end'})"
            )
            await page.screenshot(path=str(SCREENSHOTS / "tablet-s135-police-station.png"))
            await page.get_by_test_id("s136-submit").click()
            await expect(page.get_by_test_id("handover-clock")).to_be_visible()
            await expect(page.get_by_test_id("pending-count")).to_have_text("0")
            record = (await detention(client, crew, incident_id)).json()
            assert record["power"] == "s135" and record["found_in"] == "private_dwelling"
            assert record["warrant"]["issued_by"] == "District Judge Patel"
            assert record["believed_adult_reason"].startswith("Says he is 40")
            assert record["person"]["age"] is None
            assert "police_station_review" in record["flags"]
            assert errors == [], errors


@needs_chromium
async def test_a_typed_time_not_todays_is_shown_with_its_date_and_sent_only_once_confirmed(
    start_server,
):
    # The page's clock is set to ten past midnight (London), whatever the hour of the run.
    now = datetime.now(LONDON)
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    if now - midnight < timedelta(minutes=15):
        midnight -= timedelta(days=1)
    page_now = midnight + timedelta(minutes=10)
    yesterday = midnight - timedelta(days=1)
    server = await start_server()
    db = server.database_url
    supervisor = await add_user(db, "supervisor")
    handler = await add_user(db, "call_handler")
    crew = await add_user(db, "crew", unit="TC1", username="crew-time")
    async with httpx.AsyncClient(base_url=server.url) as client:
        await setup_ranked_area(client, supervisor)
        async with browser() as chromium:
            page, errors = await open_tablet(chromium, server, db, "crew-time", clock_at=page_now)
            incident_id = await offer_and_accept(page, client, handler, incident())
            await page.get_by_test_id("s136-start").click()
            await page.get_by_test_id("s136-consulted-who").select_option("none")
            await page.get_by_test_id("s136-not-consulted-reason").fill(
                "Immediate risk: no time to consult"
            )
            await page.get_by_test_id("s136-vehicle").select_option("ambulance")

            # --- 30 minutes ahead: shown with its date, not taken until confirmed
            typed = page.get_by_test_id("s136-detained-at")
            await typed.fill("00:40")
            question = page.get_by_test_id("time-confirm-question")
            await expect(question).to_contain_text(f"00:40 today ({day_label(page_now)} 00:40)")
            await expect(question).to_contain_text("30 min from now")
            await expect(question).to_contain_text(f"yesterday, {day_label(yesterday)} 00:40")
            await expect(page.get_by_test_id("s136-detained-value")).to_contain_text("confirm")
            await page.get_by_test_id("s136-submit").click()
            await expect(field_error(page, "detained_at")).to_contain_text("Confirm the date")
            await expect(page.get_by_test_id("pending-count")).to_have_text("0")
            assert (await detention(client, crew, incident_id)).status_code == 404
            await typed.evaluate("e => e.scrollIntoView({block: 'start'})")
            await page.screenshot(path=str(SCREENSHOTS / "tablet-time-confirm.png"))

            # --- corrected: 23:50, entered just after midnight, is yesterday's, said so
            await page.get_by_test_id("time-confirm-no").click()
            await expect(typed).to_have_value("")
            await typed.fill("23:50")
            await expect(question).to_contain_text(f"yesterday, {day_label(yesterday)} 23:50")
            await page.get_by_test_id("time-confirm-yes").click()
            await expect(page.get_by_test_id("time-confirm")).to_have_count(0)
            await expect(page.get_by_test_id("s136-detained-value")).to_contain_text(
                f"yesterday, {day_label(yesterday)} 23:50"
            )
            await page.get_by_test_id("s136-submit").click()
            await expect(page.get_by_test_id("handover-clock")).to_be_visible()
            await expect(page.get_by_test_id("pending-count")).to_have_text("0")
            record = (await detention(client, crew, incident_id)).json()
            detained = datetime.fromisoformat(record["detained_at"]).astimezone(LONDON)
            assert detained == yesterday.replace(hour=23, minute=50), detained

            # --- a step's typed time too: not sent until its date is confirmed
            await page.get_by_test_id("s136-arrived-place").select_option(
                index=1
            )  # the best place for this person
            await page.get_by_test_id("s136-arrived-at").fill("00:45")
            await expect(page.get_by_test_id("s136-arrived")).to_have_text(
                "Confirm the date of the time first"
            )
            await page.get_by_test_id("s136-arrived").click()
            await expect(field_error(page, "at")).to_contain_text("Confirm the date")
            await expect(page.get_by_test_id("pending-count")).to_have_text("0")
            assert (await detention(client, crew, incident_id)).json()["arrived_at"] is None
            assert errors == [], errors


@needs_chromium
async def test_transfer_starts_a_new_handover_clock_and_keeps_the_24_hour_clock(start_server):
    server = await start_server()
    db = server.database_url
    supervisor = await add_user(db, "supervisor")
    handler = await add_user(db, "call_handler")
    crew = await add_user(db, "crew", unit="TC1", username="crew-move")
    async with httpx.AsyncClient(base_url=server.url) as client:
        places = await setup_ranked_area(client, supervisor)
        suite, camhs = places["adult_suite"], places["camhs"]
        async with browser() as chromium:
            page, errors = await open_tablet(chromium, server, db, "crew-move")
            incident_id = await offer_and_accept(page, client, handler, incident())
            # detained and arrived (entered on another device), 30 minutes ago
            now = datetime.now(UTC)
            path = f"/api/v1/incidents/{incident_id}/s136"
            r = await client.post(
                path,
                json={
                    "detained_at": (now - timedelta(minutes=40)).isoformat(),
                    "consulted": {
                        "who": "mh_nurse",
                        "at": (now - timedelta(minutes=45)).isoformat(),
                    },
                    "place_of_safety_id": suite["id"],
                    "vehicle": "ambulance",
                },
                headers=crew["headers"],
            )
            assert r.status_code == 201, r.text
            arrived = now - timedelta(minutes=30)
            r = await client.post(
                f"{path}/arrived", json={"at": arrived.isoformat()}, headers=crew["headers"]
            )
            assert r.status_code == 200, r.text
            clock = page.get_by_test_id("handover-clock")
            await expect(clock).to_have_attribute("data-place-id", str(suite["id"]), timeout=10_000)
            await expect(clock).to_have_attribute("data-state", "waiting")
            limit = page.get_by_test_id("detention-clock")
            await expect(limit).to_contain_text("24 h from the first arrival")
            started = await limit.get_attribute("data-started-at")
            deadline = await limit.get_attribute("data-deadline-at")
            assert abs(datetime.fromisoformat(started) - arrived) < timedelta(seconds=1)

            # --- moved to the CAMHS place: ranked as in the form, the place left not choosable
            await page.get_by_test_id("s136-transfer-open").click()
            panel = page.get_by_test_id("transfer-panel")
            await expect(panel).to_be_visible()
            here = panel.locator(f'[data-testid="place-option"][data-place-id="{suite["id"]}"]')
            await expect(here).to_be_disabled()
            await expect(here).to_contain_text("here now")
            await panel.locator(
                f'[data-testid="place-option"][data-place-id="{camhs["id"]}"]'
            ).click()
            await expect(page.get_by_test_id("s136-transfer-place")).to_have_value(str(camhs["id"]))
            await page.get_by_test_id("s136-transfer-vehicle").select_option("ambulance")
            await page.get_by_test_id("s136-transfer-reason").fill(
                "A bed came free at a health-based place of safety"
            )
            await page.screenshot(path=str(SCREENSHOTS / "tablet-transfer.png"))
            # recorded with no signal: the new place's clock runs from the press at once
            await page.context.set_offline(True)
            status = page.get_by_test_id("connection-status")
            await expect(status).to_have_text("offline", timeout=10_000)
            moved = datetime.now(UTC)
            await page.get_by_test_id("s136-transfer-submit").click()
            await expect(page.get_by_test_id("pending-count")).to_have_text("1")
            await expect(panel).to_be_hidden()
            await expect(clock).to_have_attribute("data-place-id", str(camhs["id"]))
            await expect(clock).to_have_attribute("data-provisional", "true")
            await expect(limit).to_have_attribute("data-deadline-at", deadline)
            await expect(page.get_by_test_id("s136-summary")).to_contain_text("(to send)")
            await page.context.set_offline(False)
            await expect(page.get_by_test_id("pending-count")).to_have_text("0", timeout=15_000)
            # the clock shown is the new place's, from the move; the 24-hour one is unchanged
            await expect(clock).to_have_attribute("data-provisional", "false", timeout=10_000)
            await expect(clock).to_have_attribute("data-place-id", str(camhs["id"]))
            await expect(clock).to_have_attribute("data-state", "waiting")
            await expect(page.get_by_test_id("handover-note")).to_contain_text(
                "Moved to Hopewood CAMHS suite"
            )
            await expect(page.get_by_test_id("handover-elapsed")).to_have_text(
                re.compile(r"^00:0\d$")
            )
            await expect(limit).to_have_attribute("data-started-at", started)
            await expect(limit).to_have_attribute("data-deadline-at", deadline)
            await expect(page.get_by_test_id("s136-summary")).to_contain_text("Moved")
            record = (await detention(client, crew, incident_id)).json()
            [transfer] = record["transfers"]
            assert transfer["to_place_of_safety_id"] == camhs["id"]
            assert transfer["vehicle"] == "ambulance"
            assert abs(datetime.fromisoformat(transfer["at"]) - moved) < timedelta(seconds=2)
            old, new = [c for c in record["clocks"] if c["kind"] == "handover"]
            assert old["stop_reason"] == "transferred" and new["stopped_at"] is None
            assert new["place_of_safety_id"] == camhs["id"]
            [limit_clock] = [c for c in record["clocks"] if c["kind"] == "detention"]
            assert datetime.fromisoformat(limit_clock["started_at"]) == datetime.fromisoformat(
                started
            )
            await page.screenshot(path=str(SCREENSHOTS / "tablet-transfer-clock.png"))

            # --- an outcome before any handover here: the clock reads "not handed over"
            r = await client.post(
                f"{path}/outcome",
                json={"at": datetime.now(UTC).isoformat(), "outcome": "admitted_informally"},
                headers=crew["headers"],
            )
            assert r.status_code == 200, r.text
            await expect(clock).to_have_attribute("data-state", "not_handed_over", timeout=10_000)
            await expect(clock).to_contain_text("not handed over")
            await expect(clock).not_to_contain_text("Handed over after")
            assert errors == [], errors


@needs_chromium
async def test_urgent_offer_marked_and_a_withdrawn_offer_leaves_with_a_notice(start_server):
    server = await start_server()
    db = server.database_url
    supervisor = await add_user(db, "supervisor")
    handler = await add_user(db, "call_handler")
    await add_user(db, "crew", unit="TC1", username="crew-urgent")
    async with httpx.AsyncClient(base_url=server.url) as client:
        await setup_ranked_area(client, supervisor)
        async with browser() as chromium:
            page, errors = await open_tablet(chromium, server, db, "crew-urgent")
            # risk to life (police and triage): marked, with the area's 30-second limit
            r = await client.post("/api/v1/incidents", json=incident(), headers=handler["headers"])
            assert r.status_code == 201, r.text
            created = r.json()
            offer = next(a for a in created["assignments"] if a["unit"] == "TC1")
            card = page.locator(f'[data-testid="offer-card"][data-assignment-id="{offer["id"]}"]')
            await expect(card).to_have_attribute("data-urgent", "true", timeout=10_000)
            await expect(card.get_by_test_id("offer-kicker")).to_have_text("⚠ Risk to life")
            await expect(card.get_by_test_id("offer-urgent")).to_be_visible()
            await expect(card.get_by_test_id("offer-countdown")).to_have_text(
                re.compile(r"^Accept within 00:([0-2]\d|30)$")
            )
            await page.screenshot(path=str(SCREENSHOTS / "tablet-offer-urgent.png"))

            # --- the control room overrides to "no police action": the offer is withdrawn
            r = await client.post(
                f"/api/v1/incidents/{created['id']}/override",
                json={"outcome": "no_police_action", "reason": "Hoax call confirmed"},
                headers=handler["headers"],
            )
            assert r.status_code == 200, r.text
            await card.wait_for(state="detached", timeout=10_000)
            notice = page.get_by_test_id("notice")
            await expect(notice).to_contain_text(
                f"Incident {created['id']} withdrawn: do not attend"
            )
            await expect(page.get_by_test_id("idle")).to_be_visible()
            await page.screenshot(path=str(SCREENSHOTS / "tablet-withdrawn.png"))

            # a triage-car job (self-harm, no risk to life) is not marked
            r = await client.post(
                "/api/v1/incidents", json=incident(**CHILD_SELF_HARM), headers=handler["headers"]
            )
            offer = next(a for a in r.json()["assignments"] if a["unit"] == "TC1")
            card = page.locator(f'[data-testid="offer-card"][data-assignment-id="{offer["id"]}"]')
            await expect(card).to_have_attribute("data-urgent", "false", timeout=10_000)
            await expect(card.get_by_test_id("offer-kicker")).to_have_text("New job")
            # withdrawn too: its notice is added below the first, which stays until OK
            r = await client.post(
                f"/api/v1/incidents/{r.json()['id']}/override",
                json={"outcome": "no_police_action", "reason": "Duplicate of an earlier call"},
                headers=handler["headers"],
            )
            assert r.status_code == 200, r.text
            await card.wait_for(state="detached", timeout=10_000)
            lines = notice.locator(".notice-line")
            await expect(lines).to_have_count(2)
            await expect(lines.first).to_contain_text(f"Incident {created['id']} withdrawn")
            await expect(lines.last).to_contain_text(f"Incident {r.json()['id']} withdrawn")
            await page.get_by_test_id("notice-close").click()
            await expect(notice).to_be_hidden()

            # --- withdrawn while the tablet was closed (no event seen): said when it is back
            r = await client.post("/api/v1/incidents", json=incident(), headers=handler["headers"])
            third = r.json()
            offer = next(a for a in third["assignments"] if a["unit"] == "TC1")
            card = page.locator(f'[data-testid="offer-card"][data-assignment-id="{offer["id"]}"]')
            await card.wait_for(timeout=10_000)
            await page.close()  # the offer stays in the tablet's storage
            r = await client.post(
                f"/api/v1/incidents/{third['id']}/override",
                json={"outcome": "no_police_action", "reason": "Caller rang back: all well"},
                headers=handler["headers"],
            )
            assert r.status_code == 200, r.text
            page = await page.context.new_page()  # a new tab: signed out, no event cursor
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            await page.goto(f"{server.url}/tablet")
            await sign_in(page, "crew-urgent")
            notice = page.get_by_test_id("notice")
            await expect(notice).to_contain_text(
                f"Incident {third['id']} withdrawn: do not attend", timeout=10_000
            )
            await expect(page.get_by_test_id("offer-card")).to_have_count(0)
            assert errors == [], errors


READ_TYPED_TIMES = """
async (cases) => {
  const { readTypedTime } = await import('/static/common/typed-time.js');
  return cases.map(([now, typed]) => readTypedTime(typed, Date.parse(now)));
}
"""


@needs_chromium
async def test_typed_times_are_read_against_now_and_never_moved_silently(start_server):
    """The pure reading behind the tablet's "it happened at", in London time, across midnight
    and the clock changes (fixed instants: the module takes `now`, not the machine's clock)."""
    server = await start_server()
    cases = [
        # (now, typed) → (ISO moment proposed, day, needs confirming)
        (("2026-06-10T13:00:00Z", "13:45"), ("2026-06-10T12:45:00.000Z", "today", False)),
        (("2026-06-10T13:00:00Z", "14:02"), ("2026-06-10T13:02:00.000Z", "today", False)),
        # 30 min ahead: yesterday's, to be confirmed, never taken silently
        (("2026-06-10T13:00:00Z", "14:30"), ("2026-06-09T13:30:00.000Z", "yesterday", True)),
        # entered at 00:10 for 23:50: yesterday's
        (("2026-12-01T00:10:00Z", "23:50"), ("2026-11-30T23:50:00.000Z", "yesterday", True)),
        # the spring-forward morning: 01:30 does not exist; it is never taken as 02:30 unasked
        (("2026-03-29T02:30:00Z", "01:30"), None),
        # the autumn morning: 23:30 the evening before, across the change
        (("2026-10-25T00:30:00Z", "23:40"), ("2026-10-24T22:40:00.000Z", "yesterday", True)),
    ]
    async with browser() as chromium:
        context = await chromium.new_context(timezone_id="Europe/London")
        page = await context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        await page.goto(f"{server.url}/tablet")
        got = await page.evaluate(READ_TYPED_TIMES, [list(c[0]) for c in cases])
        assert errors == []
    for (given, expected), reading in zip(cases, got, strict=True):
        if expected is None:
            assert reading["needsConfirm"], (given, reading)
            continue
        assert (reading["at"], reading["day"], reading["needsConfirm"]) == expected, given
        if reading["needsConfirm"]:
            assert reading["label"].startswith("yesterday, "), reading
    assert got[0]["aheadMs"] == 0 and got[2]["aheadMs"] == 30 * 60_000
    assert got[3]["label"] == "yesterday, Mon 30 Nov 23:50", got[3]
