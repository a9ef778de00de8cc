"""The web apps' sessions in a real headless Chromium against a real server: the socket opens
with a ticket (never the token), signing out ends the session on the server, and a session
ended elsewhere (an account disabled) brings the screen back to sign-in at once."""

import asyncio

import asyncpg
import httpx

from tests.browser import SCREENSHOTS, browser, needs_chromium, sign_in
from tests.live import add_user
from tests.test_live_events import dsn


async def session_token(page) -> str:
    stored = await page.evaluate("() => JSON.parse(sessionStorage.getItem('triage.session'))")
    return stored["token"]


async def status_of(server, token: str) -> int:
    async with httpx.AsyncClient(base_url=server.url) as client:
        headers = {"Authorization": f"Bearer {token}"}
        return (await client.get("/api/v1/areas", headers=headers)).status_code


@needs_chromium
async def test_dashboard_connects_with_a_ticket_and_signing_out_ends_the_session(start_server):
    server = await start_server()
    await add_user(server.database_url, "supervisor", username="sup-sessions")
    async with browser() as chromium:
        page = await chromium.new_page(viewport={"width": 1280, "height": 800})
        socket_urls: list[str] = []
        page.on("websocket", lambda ws: socket_urls.append(ws.url))
        await page.goto(f"{server.url}/dashboard")
        await sign_in(page, "sup-sessions")
        await (
            page.get_by_test_id("connection-status")
            .filter(has_text="live")
            .wait_for(timeout=10_000)
        )
        token = await session_token(page)
        assert socket_urls and all("ticket=" in url for url in socket_urls)
        assert not any(token in url or "token=" in url for url in socket_urls)
        assert await status_of(server, token) == 200

        await page.get_by_test_id("sign-out").click()
        await page.get_by_test_id("login-submit").wait_for(state="visible")
        for _ in range(50):  # the sign-out request is sent without waiting for its answer
            if await status_of(server, token) == 401:
                break
            await asyncio.sleep(0.1)
        assert await status_of(server, token) == 401


@needs_chromium
async def test_a_tablet_returns_to_sign_in_when_its_account_is_disabled(start_server):
    server = await start_server()
    crew = await add_user(server.database_url, "crew", unit="TC1", username="crew-sessions")
    async with browser() as chromium:
        page = await chromium.new_page(viewport={"width": 1024, "height": 768})
        await page.goto(f"{server.url}/tablet")
        await sign_in(page, "crew-sessions")
        await (
            page.get_by_test_id("connection-status")
            .filter(has_text="live")
            .wait_for(timeout=10_000)
        )
        connection = await asyncpg.connect(dsn(server.database_url))
        try:
            await connection.execute("UPDATE users SET active = false WHERE id = $1", crew["id"])
        finally:
            await connection.close()
        notice = page.get_by_test_id("login-notice")
        await notice.filter(has_text="session has ended").wait_for(timeout=5_000)
        await page.screenshot(path=SCREENSHOTS / "tablet-session-ended.png")
