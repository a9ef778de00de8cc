"""Real service processes for live tests: `python -m app serve` on a port of its own, against a
database of its own, driven through real HTTP and websocket clients."""

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect

from app.database import create_engine, create_sessionmaker
from tests.accounts import make_account, open_session
from tests.roles import as_app_role

LIVE_PASSWORD = "live-password-123"  # every user add_user makes signs in with it
LIVE_SECRET = "live-test-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"
PROJECT_ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    def __init__(self, database_url: str, data_dir: Path, name: str, **env: str) -> None:
        self.database_url = database_url
        self.name = name
        self.port = free_port()
        self.log_path = data_dir / f"server-{name}-{self.port}.log"
        self.env = {
            **os.environ,
            # The service runs as the restricted role; it migrates as the owner.
            "DATABASE_URL": as_app_role(database_url),
            "MIGRATION_DATABASE_URL": database_url,
            "SECRET_KEY": LIVE_SECRET,
            "DATA_DIR": str(data_dir),
            "INSTANCE_NAME": name,
            "WORKER_INTERVAL_SECONDS": "0.2",
            "EVENT_POLL_SECONDS": "0.5",
            **env,
        }
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def ticket(self, token: str) -> str:
        """A fresh single-use websocket ticket for the session `token` belongs to.

        Blocking on purpose, so that `connect(server.ws_url(token))` stays one expression in every
        test: the server is another process, and one local request barely pauses this loop."""
        response = httpx.post(
            f"{self.url}/api/v1/auth/ws-ticket", headers={"Authorization": f"Bearer {token}"}
        )
        response.raise_for_status()
        return response.json()["ticket"]

    def ws_url(self, token: str, after: int | None = None) -> str:
        """The websocket URL for the session `token` belongs to, with a new ticket."""
        return self.ticket_url(self.ticket(token), after)

    def ticket_url(self, ticket: str, after: int | None = None) -> str:
        query = f"ticket={ticket}" + (f"&after={after}" if after is not None else "")
        return f"ws://127.0.0.1:{self.port}/ws?{query}"

    async def start(self, timeout: float = 30.0) -> "LiveServer":
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "app", "serve", "--port", str(self.port)],
            cwd=PROJECT_ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient() as client:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise RuntimeError(
                        f"server {self.name} exited: {self.log_path.read_text()[-2000:]}"
                    )
                try:
                    if (await client.get(f"{self.url}/readyz")).status_code == 200:
                        return self
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
        raise RuntimeError(
            f"server {self.name} did not become ready: {self.log_path.read_text()[-2000:]}"
        )

    async def stop(self, sig: int = signal.SIGTERM, timeout: float = 20.0) -> int | None:
        if self.process is None or self.process.poll() is not None:
            return None if self.process is None else self.process.returncode
        self.process.send_signal(sig)
        deadline = time.monotonic() + timeout
        while self.process.poll() is None and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        return self.process.returncode

    def log(self) -> str:
        return self.log_path.read_text()


async def add_user(
    database_url: str,
    role: str,
    *,
    unit: str | None = None,
    area: str = "default",
    username: str | None = None,
) -> dict[str, Any]:
    """Create a user straight in the database, signed in; returns its id, username, token,
    session id and auth header (the password is LIVE_PASSWORD)."""
    engine = create_engine(database_url, pool_size=1)
    name = username or f"{role}-{unit or ''}-{os.urandom(3).hex()}"
    try:
        async with create_sessionmaker(engine)() as session, session.begin():
            user = await make_account(
                session, name, role, password=LIVE_PASSWORD, unit=unit, area=area
            )
            user_id = user.id
            token, session_id = await open_session(session, user_id, secret=LIVE_SECRET)
    finally:
        await engine.dispose()
    return {
        "id": user_id,
        "username": name,
        "token": token,
        "session_id": session_id,
        "headers": {"Authorization": f"Bearer {token}"},
    }


async def online(ws: ClientConnection) -> ClientConnection:
    """Wait until the server has taken this socket in (subscribed, its crew counted as
    connected for dispatch): a pong comes only after the socket's `ready`."""
    await ws.send('{"type": "ping"}')
    await receive_until(ws, lambda m: m.get("type") == "pong")
    return ws


@asynccontextmanager
async def crews_online(
    server: "LiveServer", crews: dict[str, dict[str, Any]]
) -> AsyncIterator[dict[str, ClientConnection]]:
    """A socket open for each crew (callsign → user), as tablets signed in: offers go only to
    units with a crew connected."""
    async with AsyncExitStack() as stack:
        sockets = {
            callsign: await online(
                await stack.enter_async_context(connect(server.ws_url(u["token"])))
            )
            for callsign, u in crews.items()
        }
        yield sockets


async def receive_json(
    ws: ClientConnection, timeout: float = 5.0, *, skip_ready: bool = True
) -> dict[str, Any]:
    """The next message. `ready` (sent once when the socket is subscribed) is skipped unless
    asked for: it tells a client when to load its state, and tests wait for it with online()."""
    deadline = time.monotonic() + timeout
    while True:
        raw = await asyncio.wait_for(ws.recv(), max(0.0, deadline - time.monotonic()))
        message = json.loads(raw)
        if not (skip_ready and message.get("type") == "ready"):
            return message


async def receive_until(
    ws: ClientConnection, predicate: Any, timeout: float = 5.0
) -> dict[str, Any]:
    """The first message that satisfies `predicate`, skipping others."""
    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("no matching message")
        message = await receive_json(ws, remaining)
        if predicate(message):
            return message


async def drain(ws: ClientConnection, quiet: float = 0.5) -> list[dict[str, Any]]:
    """Every message until none arrives for `quiet` seconds."""
    messages = []
    while True:
        try:
            messages.append(await receive_json(ws, quiet))
        except TimeoutError:
            return messages


__all__ = [
    "LiveServer",
    "add_user",
    "connect",
    "crews_online",
    "drain",
    "online",
    "receive_json",
    "receive_until",
]
