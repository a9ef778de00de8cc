"""Every page works under the strict Content-Security-Policy: each is opened in Chromium against a
real server, signed in and live, with the network cut off beyond the server, and fails on any
CSP violation (`securitypolicyviolation` events), console error or script error. The API
documentation renders from local files, and in production only after a sign-in."""

from urllib.parse import urlsplit

import httpx
import pytest
from playwright.async_api import expect

from tests.browser import SCREENSHOTS, browser, needs_chromium, sign_in
from tests.factories import incident
from tests.live import add_user

# Collects violations from the first moment of every document.
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  const where = `${e.sourceFile}:${e.lineNumber}`;
  const blocked = e.blockedURI || 'inline';
  window.__cspViolations.push(`${e.effectiveDirective} blocked ${blocked} at ${where}`);
});
"""

# (path, role, unit) for each screen; None: no sign-in.
PAGES = [
    ("/", None, None),
    ("/intake", "call_handler", None),
    ("/tablet", "crew", "TC1"),
    ("/nurse", "nurse", "DESK1"),
    ("/dashboard", "supervisor", None),
]


class Watch:
    """What went wrong on a page: CSP violations, console errors, script errors, requests that
    tried to leave the server."""

    def __init__(self, page, server_host: str) -> None:
        self.page = page
        self.console: list[str] = []
        self.errors: list[str] = []
        self.outside: list[str] = []
        self.server_host = server_host
        page.on("console", self._on_console)
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))

    def _on_console(self, message) -> None:
        if message.type == "error":
            self.console.append(message.text)

    async def route(self, route) -> None:
        if urlsplit(route.request.url).hostname != self.server_host:
            self.outside.append(route.request.url)
            await route.abort()
        else:
            await route.continue_()

    async def violations(self) -> list[str]:
        return await self.page.evaluate("window.__cspViolations")

    async def assert_clean(self, *, expected_console: tuple[str, ...] = ()) -> None:
        console = [c for c in self.console if not any(e in c for e in expected_console)]
        assert await self.violations() == []
        assert [c for c in console if "Content Security Policy" in c] == []
        assert console == []
        assert self.errors == []
        assert self.outside == []


async def new_page(chromium, server):
    context = await chromium.new_context(viewport={"width": 1400, "height": 900})
    await context.add_init_script(RECORD_VIOLATIONS)
    page = await context.new_page()
    watch = Watch(page, "127.0.0.1")
    await context.route("**/*", watch.route)
    return page, watch


async def setup(server) -> dict[str, str]:
    """One user per role (username by role), TC1 and the nurse desk, and an incident offered to
    TC1 so that the screens have something to draw."""
    db = server.database_url
    supervisor = await add_user(db, "supervisor", username="sup")
    handler = await add_user(db, "call_handler", username="handler")
    async with httpx.AsyncClient(base_url=server.url) as client:
        for unit in (
            {"callsign": "TC1", "kind": "triage_car", "status": "available",
             "lat": 52.945, "lon": -1.13, "crew": [{"name": "PC Ali", "role": "officer"}]},
            {"callsign": "DESK1", "kind": "nurse_desk", "status": "available"},
        ):  # fmt: skip
            r = await client.post("/api/v1/units", json=unit, headers=supervisor["headers"])
            assert r.status_code == 201, r.text
        await add_user(db, "crew", unit="TC1", username="crew")
        await add_user(db, "nurse", unit="DESK1", username="nurse")
        r = await client.post("/api/v1/incidents", json=incident(), headers=handler["headers"])
        assert r.status_code == 201, r.text
    return {"call_handler": "handler", "crew": "crew", "nurse": "nurse", "supervisor": "sup"}


@needs_chromium
async def test_every_page_runs_under_the_csp_without_a_violation(start_server):
    server = await start_server()
    usernames = await setup(server)
    handler = (await add_user(server.database_url, "call_handler"))["headers"]
    async with browser() as chromium:
        for path, role, _ in PAGES:
            page, watch = await new_page(chromium, server)
            response = await page.goto(f"{server.url}{path}")
            assert "default-src 'self'" in response.headers["content-security-policy"]
            if role is not None:
                await sign_in(page, usernames[role])
                await expect(page.get_by_test_id("connection-status")).to_have_text(
                    "live", timeout=10_000
                )
            if role == "crew":
                # An offer while the tablet is live: its card and countdown draw too.
                async with httpx.AsyncClient(base_url=server.url) as client:
                    await client.post("/api/v1/incidents", json=incident(), headers=handler)
                await expect(page.get_by_test_id("offer-card").first).to_be_visible(timeout=10_000)
            await page.wait_for_load_state("networkidle")
            await page.screenshot(path=SCREENSHOTS / f"csp-{path.strip('/') or 'home'}.png")
            try:
                await watch.assert_clean()
            except AssertionError as failure:
                raise AssertionError(f"{path}: {failure}") from failure
            await page.context.close()


@needs_chromium
async def test_a_violation_is_caught():
    """The test above can fail: an inline style on a page under the same policy is reported."""
    async with browser() as chromium:
        context = await chromium.new_context()
        await context.add_init_script(RECORD_VIOLATIONS)
        page = await context.new_page()

        async def serve(route) -> None:
            await route.fulfill(
                body="<p style='color: red'>x</p><script>document.title = 'ran'</script>",
                headers={
                    "content-type": "text/html",
                    "content-security-policy": "default-src 'self'; style-src 'self'",
                },
            )

        await page.route("http://csp.test/", serve)
        await page.goto("http://csp.test/")
        await page.wait_for_timeout(200)
        violations = await page.evaluate("window.__cspViolations")
        assert any(v.startswith("style-src") for v in violations), violations
        assert any(v.startswith("script-src") for v in violations), violations
        assert await page.title() != "ran"


@needs_chromium
async def test_the_api_docs_render_offline_under_the_csp(start_server):
    server = await start_server()
    async with browser() as chromium:
        page, watch = await new_page(chromium, server)
        await page.goto(f"{server.url}/docs")
        await expect(page.locator(".opblock").first).to_be_visible(timeout=15_000)
        await expect(page.get_by_text("/api/v1/incidents").first).to_be_visible()
        await expect(page.get_by_test_id("docs-sign-in")).to_be_hidden()
        await page.wait_for_load_state("networkidle")
        await page.screenshot(path=SCREENSHOTS / "api-docs.png")
        await watch.assert_clean()


@needs_chromium
@pytest.mark.parametrize("environment", ["prod"])
async def test_in_production_the_api_docs_need_a_sign_in(start_server, environment):
    server = await start_server(ENVIRONMENT=environment)
    await add_user(server.database_url, "call_handler", username="reader")
    async with browser() as chromium:
        page, watch = await new_page(chromium, server)
        await page.goto(f"{server.url}/docs")
        await expect(page.get_by_test_id("docs-sign-in")).to_be_visible(timeout=10_000)
        assert await page.locator(".opblock").count() == 0
        await page.screenshot(path=SCREENSHOTS / "api-docs-sign-in.png")
        await sign_in(page, "reader")
        await expect(page.locator(".opblock").first).to_be_visible(timeout=15_000)
        await expect(page.get_by_test_id("docs-sign-in")).to_be_hidden()
        # "Try it out" sends the token the page holds (in memory only).
        status = await page.evaluate(
            "() => window.sessionStorage.length + window.localStorage.length"
        )
        assert status == 0
        # The first request for the description is refused (401) until the sign-in.
        await watch.assert_clean(expected_console=("status of 401",))
