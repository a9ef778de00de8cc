"""The four web apps in Debian's Firefox ESR (the Chromium tests cover the flows in depth): each
signs in, goes live on the websocket without a JavaScript error, and a crew tablet shows an offer
as it is made and accepts it."""

import asyncio
import json

import httpx

from tests.factories import incident
from tests.firefox import Firefox, firefox, needs_firefox
from tests.live import LIVE_PASSWORD, add_user


async def sign_in(browser: Firefox, base_url: str, screen: str, username: str) -> None:
    await browser.navigate(f"{base_url}/{screen}")
    await browser.evaluate(
        f"""(() => {{
            document.querySelector('[data-testid="username"]').value = {json.dumps(username)};
            document.querySelector('[data-testid="password"]').value = {json.dumps(LIVE_PASSWORD)};
            document.querySelector('[data-testid="login-submit"]').click();
            return true;
        }})()"""
    )
    status = "document.querySelector('[data-testid=\"connection-status\"]')?.textContent"
    assert await browser.wait_for(f"{status} === 'live' && {status}") == "live"


@needs_firefox
async def test_every_screen_signs_in_and_goes_live_in_firefox(start_server):
    server = await start_server()
    await add_user(server.database_url, "call_handler", username="ff-handler")
    await add_user(server.database_url, "supervisor", username="ff-supervisor")
    await add_user(server.database_url, "nurse", unit="NURSE1", username="ff-nurse")
    async with firefox(1920, 1080) as browser:
        for screen, username in (
            ("intake", "ff-handler"),
            ("dashboard", "ff-supervisor"),
            ("nurse", "ff-nurse"),
        ):
            await sign_in(browser, server.url, screen, username)
            # sign out so the next screen starts from its sign-in form
            await browser.evaluate("localStorage.clear(), sessionStorage.clear(), true")
        assert browser.js_errors == []


@needs_firefox
async def test_crew_tablet_offer_arrives_and_is_accepted_in_firefox(start_server):
    server = await start_server()
    supervisor = await add_user(server.database_url, "supervisor")
    handler = await add_user(server.database_url, "call_handler")
    await add_user(server.database_url, "crew", unit="TC1", username="ff-crew")
    async with httpx.AsyncClient(base_url=server.url) as client:
        car = {"callsign": "TC1", "kind": "triage_car", "status": "available"}
        r = await client.post(
            "/api/v1/units", json=car | {"lat": 52.95, "lon": -1.15}, headers=supervisor["headers"]
        )
        assert r.status_code == 201, r.text
        async with firefox(1280, 800) as browser:
            await sign_in(browser, server.url, "tablet", "ff-crew")
            created = await client.post(
                "/api/v1/incidents", json=incident(), headers=handler["headers"]
            )
            assert created.status_code == 201, created.text
            offer = created.json()["assignments"][0]
            card = f'[data-testid="offer-card"][data-assignment-id="{offer["id"]}"]'
            location = await browser.wait_for(
                f"document.querySelector('{card} [data-testid=\"offer-location\"]')?.textContent"
            )
            assert "Trent Bridge" in location
            await browser.evaluate(
                f"document.querySelector('{card} [data-testid=\"accept\"]').click(), true"
            )
            for _ in range(100):
                listed = await client.get("/api/v1/assignments", headers=supervisor["headers"])
                if listed.json()[0]["status"] == "accepted":
                    break
                await asyncio.sleep(0.1)
            assert listed.json()[0]["status"] == "accepted"
            assert browser.js_errors == []
