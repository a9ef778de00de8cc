"""Headless Chromium (Debian's) driven by Playwright, for the web apps."""

import asyncio
import os
import shutil
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from tests.live import LIVE_PASSWORD

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# The screenshots in docs/ are refreshed only on request (`make screenshots`), so a test run
# leaves the working tree as it found it; otherwise they are still taken, into a scratch folder.
SCREENSHOTS = (
    Path(__file__).resolve().parents[1] / "docs" / "screenshots"
    if os.environ.get("UPDATE_SCREENSHOTS") == "1"
    else Path(tempfile.gettempdir()) / "triage-screenshots"
)
SCREENSHOTS.mkdir(parents=True, exist_ok=True)

needs_chromium = pytest.mark.skipif(
    not Path(CHROMIUM).exists(),
    reason="Debian's chromium is not installed (scripts/ensure-browsers)",
)


@asynccontextmanager
async def browser() -> AsyncIterator[object]:
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        chromium = await p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        try:
            yield chromium
        finally:
            await chromium.close()


async def sign_in(page, username: str, password: str = LIVE_PASSWORD) -> None:
    """Fill and send a screen's sign-in form (every screen has the same one)."""
    await page.get_by_test_id("username").fill(username)
    await page.get_by_test_id("password").fill(password)
    await page.get_by_test_id("login-submit").click()


async def wait_for_true(page, expression: str, *, timeout: float = 5.0) -> None:
    """Wait until `expression` is true in the page. (Playwright's wait_for_function evaluates its
    string with `eval` inside the page, which the pages' CSP refuses; `evaluate` is not subject
    to it.)"""
    deadline = asyncio.get_running_loop().time() + timeout
    while not await page.evaluate(expression):
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"still false after {timeout} s: {expression}")
        await asyncio.sleep(0.1)
