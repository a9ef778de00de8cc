"""The supervisors' dashboard in a real headless Chromium against a real server: a handover
goes from waiting to warning to breached to handed over, live."""

import json
from datetime import UTC, datetime, timedelta

import httpx

from tests.browser import SCREENSHOTS, browser, needs_chromium, sign_in
from tests.factories import incident
from tests.live import add_user
from tests.test_s136_api import detention


@needs_chromium
async def test_supervisor_watches_a_handover_breach_live(start_server):
    server = await start_server()
    db = server.database_url
    admin = await add_user(db, "admin")
    supervisor = await add_user(db, "supervisor", username="sup-dashboard")
    handler = await add_user(db, "call_handler")
    crew = await add_user(db, "crew", unit="TC1")
    async with httpx.AsyncClient(base_url=server.url) as client:
        # A short goal so the test sees every state within about a minute.
        r = await client.patch(
            "/api/v1/areas/default",
            json={"handover_goal_minutes": 5, "handover_warning_minutes": 4},
            headers=admin["headers"],
        )
        assert r.status_code == 200, r.text
        place = (
            await client.post(
                "/api/v1/places-of-safety",
                json={
                    "name": "Highbury s136 suite",
                    "type": "health_based_place_of_safety",
                    "available_beds": 2,
                    "accepts_under_18": True,
                },
                headers=supervisor["headers"],
            )
        ).json()
        await client.post(
            "/api/v1/places-of-safety",
            json={
                "name": "QMC Emergency Department",
                "type": "emergency_department",
                "available_beds": 0,
            },
            headers=supervisor["headers"],
        )
        incident_id = (
            await client.post("/api/v1/incidents", json=incident(), headers=handler["headers"])
        ).json()["id"]
        r = await client.post(
            f"/api/v1/incidents/{incident_id}/s136",
            json=detention(place["id"]),
            headers=crew["headers"],
        )
        assert r.status_code == 201, r.text

        async with browser() as chromium:
            page = await chromium.new_page(viewport={"width": 1920, "height": 1080})
            frames: list[dict] = []
            page.on(
                "websocket",
                lambda ws: ws.on(
                    "framereceived", lambda payload: frames.append(json.loads(payload))
                ),
            )
            await page.goto(f"{server.url}/dashboard")
            await sign_in(page, "sup-dashboard")
            status = page.get_by_test_id("connection-status")
            await status.filter(has_text="live").wait_for(timeout=10_000)

            arrived = datetime.now(UTC) - timedelta(minutes=3, seconds=54)
            r = await client.post(
                f"/api/v1/incidents/{incident_id}/s136/arrived",
                json={"at": arrived.isoformat()},
                headers=crew["headers"],
            )
            assert r.status_code == 200, r.text
            row = page.locator(f'[data-testid="handover-row"][data-incident-id="{incident_id}"]')
            await row.wait_for(timeout=10_000)
            assert await row.get_attribute("data-state") == "waiting"
            elapsed = await row.get_by_test_id("handover-elapsed").inner_text()
            assert elapsed.startswith("03:5"), elapsed

            await page.locator(
                f'[data-testid="handover-row"][data-state="warning"]'
                f'[data-incident-id="{incident_id}"]'
            ).wait_for(timeout=15_000)
            await page.locator(
                f'[data-testid="handover-row"][data-state="breached"]'
                f'[data-incident-id="{incident_id}"]'
            ).wait_for(timeout=75_000)
            # the server's own announcement arrived over the socket (not only the page's timer)
            for _ in range(30):
                if any(f.get("type") == "handover.breached" for f in frames):
                    break
                await page.wait_for_timeout(200)
            breach = next(f for f in frames if f.get("type") == "handover.breached")
            assert breach["data"]["incident_id"] == incident_id
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            await page.screenshot(path=str(SCREENSHOTS / "dashboard-breach.png"))

            r = await client.post(
                f"/api/v1/incidents/{incident_id}/s136/handover",
                json={"at": datetime.now(UTC).isoformat(), "received_by": "RMN Obi"},
                headers=crew["headers"],
            )
            assert r.status_code == 200, r.text
            await page.locator(
                f'[data-testid="handover-row"][data-state="handed_over"]'
                f'[data-incident-id="{incident_id}"]'
            ).wait_for(timeout=10_000)
            assert await page.get_by_test_id("place-row").count() == 2
            await page.screenshot(path=str(SCREENSHOTS / "dashboard-handed-over.png"))

            # a dropped connection shows offline, then resumes
            await server.stop()
            await status.filter(has_text="offline").wait_for(timeout=30_000)
            assert await page.get_by_test_id("offline-banner").is_visible()
            await page.screenshot(path=str(SCREENSHOTS / "dashboard-offline.png"))
