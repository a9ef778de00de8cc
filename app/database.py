"""Where the database is, and the engine and sessions on it.

PostgreSQL is the only database: the server named by DATABASE_URL, or else an embedded one
(pgserver) kept under DATA_DIR between runs.
"""

from __future__ import annotations

import logging
import secrets
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from app.config import Settings

log = logging.getLogger(__name__)

_embedded: Any = None  # the pgserver handle, kept so it stops when the process exits


def start_embedded_postgres(data_dir: Path) -> str:
    """Start (or join) the embedded server under data_dir and return its asyncpg URL."""
    global _embedded
    try:
        import pgserver  # imported late: only embedded mode needs it
    except ImportError as exc:
        raise SystemExit(
            "DATABASE_URL is not set and the embedded PostgreSQL is not installed: set "
            "DATABASE_URL (production), or install the `embedded` extra for development "
            "(make run does)"
        ) from exc

    data_dir.mkdir(parents=True, exist_ok=True)
    if _embedded is None:
        _embedded = pgserver.get_server(data_dir.resolve() / "pg", cleanup_mode="stop")
    socket_dir = _embedded.get_postmaster_info().socket_dir
    return f"postgresql+asyncpg://postgres@/postgres?host={socket_dir}"


def resolve_database_url(settings: Settings) -> str:
    if settings.database_url is not None:
        return to_async_url(settings.database_url.get_secret_value())
    return start_embedded_postgres(settings.data_dir)


def to_async_url(url: str) -> str:
    """Accept postgres://, postgresql:// or postgresql+asyncpg:// and return the asyncpg form."""
    parsed = make_url(url.replace("postgres://", "postgresql://", 1))
    return parsed.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)


def resolve_secret_key(settings: Settings) -> str:
    """The token signing key: from settings, or generated once into DATA_DIR."""
    if settings.secret_key is not None:
        return settings.secret_key.get_secret_value()
    path = settings.data_dir / "secret_key"
    if not path.exists():
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(48))
        log.warning("SECRET_KEY unset: generated a signing key in %s", path)
    return path.read_text().strip()


def create_engine(url: str, *, pool_size: int = 10) -> AsyncEngine:
    return create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        # A statement's parameters are person data: never in an exception's text, so never in a
        # log (app/log_policy.py drops the messages as well).
        hide_parameters=True,
        connect_args={"server_settings": {"application_name": "street-triage", "timezone": "UTC"}},
    )


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


_NOW = "transaction_now"


async def db_now(session: AsyncSession) -> datetime:
    """The database's clock, shared by every instance: `now()`, the start of the transaction.

    Constant for the whole transaction in PostgreSQL, so it is asked once per transaction and
    kept on the session (each ask is a round trip on the hot dispatch path).
    """
    transaction = session.sync_session.get_transaction()
    cached = session.info.get(_NOW)
    if transaction is not None and cached is not None and cached[0] is transaction:
        return cached[1]
    now: datetime = await session.scalar(select(func.now()))
    session.info[_NOW] = (session.sync_session.get_transaction(), now)
    return now
