"""Where the tests' PostgreSQL is: TEST_DATABASE_URL, else the server on 127.0.0.1:5432 if it
answers, else an embedded one (pgserver) in a temporary folder. Each test run makes its own
databases on it and drops them afterwards."""

import asyncio
import os
import socket
import tempfile
import uuid
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url

from app.database import to_async_url

_embedded: Any = None


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def server_url() -> str:
    """An asyncpg URL for a maintenance database on the test server."""
    global _embedded
    if url := os.environ.get("TEST_DATABASE_URL"):
        return to_async_url(url)
    if _port_open("127.0.0.1", 5432):
        return "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
    if _embedded is None:
        import pgserver

        _embedded = pgserver.get_server(
            tempfile.mkdtemp(prefix="triage-test-pg-"), cleanup_mode="delete"
        )
    socket_dir = _embedded.get_postmaster_info().socket_dir
    return f"postgresql+asyncpg://postgres@/postgres?host={socket_dir}"


def with_database(url: str, name: str) -> str:
    return make_url(url).set(database=name).render_as_string(hide_password=False)


def _dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _admin(url: str, *statements: str) -> None:
    connection = await asyncpg.connect(_dsn(url))
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


def create_database(
    server: str, *, template: str | None = None, prefix: str = "triage_test"
) -> str:
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    clause = f' TEMPLATE "{template}"' if template else ""
    asyncio.run(_admin(server, f'CREATE DATABASE "{name}"{clause}'))
    return name


async def create_database_async(server: str, *, template: str, prefix: str = "triage_live") -> str:
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    await _admin(server, f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    return name


def drop_database(server: str, name: str) -> None:
    asyncio.run(_admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def drop_database_async(server: str, name: str) -> None:
    await _admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
