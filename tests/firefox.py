"""Debian's Firefox ESR driven over WebDriver BiDi, which Firefox speaks natively.

Playwright's Firefox is a patched build downloaded from a CDN, and geckodriver is not packaged by
Debian; BiDi needs neither: Firefox started with `--remote-debugging-port` answers on
ws://host:port/session. This is the little of the protocol the smoke tests use.
"""

import asyncio
import contextlib
import itertools
import json
import shutil
import socket
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect

FIREFOX = shutil.which("firefox-esr") or shutil.which("firefox") or "/usr/bin/firefox-esr"

needs_firefox = pytest.mark.skipif(
    not Path(FIREFOX).exists(),
    reason="Debian's firefox-esr is not installed (scripts/ensure-browsers)",
)


class BiDiError(Exception):
    pass


class Firefox:
    """One BiDi session on one tab; collects the page's JavaScript errors."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.ids = itertools.count(1)
        self.waiting: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self.js_errors: list[str] = []
        self.context = ""
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for raw in self.ws:
            message = json.loads(raw)
            if "id" in message and message["id"] in self.waiting:
                self.waiting.pop(message["id"]).set_result(message)
            elif message.get("method") == "log.entryAdded":
                entry = message["params"]
                if entry.get("type") == "javascript" and entry.get("level") == "error":
                    self.js_errors.append(entry.get("text", ""))

    async def command(self, method: str, **params: Any) -> dict[str, Any]:
        command_id = next(self.ids)
        self.waiting[command_id] = asyncio.get_running_loop().create_future()
        await self.ws.send(json.dumps({"id": command_id, "method": method, "params": params}))
        answer = await asyncio.wait_for(self.waiting[command_id], 30)
        if answer.get("type") == "error":
            raise BiDiError(f"{method}: {answer.get('error')}: {answer.get('message')}")
        return answer["result"]

    async def navigate(self, url: str) -> None:
        await self.command(
            "browsingContext.navigate", context=self.context, url=url, wait="complete"
        )

    async def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page (promises awaited)."""
        result = await self.command(
            "script.evaluate",
            expression=expression,
            target={"context": self.context},
            awaitPromise=True,
        )
        if result.get("type") == "exception":
            raise BiDiError(result["exceptionDetails"].get("text", "exception"))
        return result["result"].get("value")

    async def wait_for(self, expression: str, timeout: float = 10.0) -> Any:
        """Poll until the expression is truthy; its value."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            value = await self.evaluate(expression)
            if value:
                return value
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"still false after {timeout} s: {expression}")
            await asyncio.sleep(0.1)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.asynccontextmanager
async def firefox(width: int = 1280, height: int = 800) -> AsyncIterator[Firefox]:
    port = _free_port()
    with tempfile.TemporaryDirectory(prefix="firefox-profile-") as profile:
        process = await asyncio.create_subprocess_exec(
            *(FIREFOX, "--headless", "--no-remote", "--profile", profile),
            *(f"--remote-debugging-port={port}", f"--width={width}", f"--height={height}"),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        try:
            ws = None
            for _ in range(300):  # a cold start can take a few seconds
                with contextlib.suppress(OSError):
                    ws = await connect(f"ws://127.0.0.1:{port}/session", max_size=None)
                    break
                await asyncio.sleep(0.1)
            assert ws is not None, "Firefox did not open its WebDriver BiDi port"
            browser = Firefox(ws)
            try:
                await browser.command("session.new", capabilities={})
                await browser.command("session.subscribe", events=["log.entryAdded"])
                tree = await browser.command("browsingContext.getTree")
                browser.context = tree["contexts"][0]["context"]
                yield browser
            finally:
                browser.reader.cancel()
                with contextlib.suppress(Exception):
                    await ws.close()
        finally:
            if process.returncode is None:
                process.terminate()
                try:
                    await asyncio.wait_for(process.wait(), 10)
                except TimeoutError:
                    process.kill()
                    await process.wait()
