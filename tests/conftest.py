"""Fixtures: a migrated PostgreSQL database per test run, each test inside a transaction that is
rolled back afterwards, and an httpx client on the application."""

import atexit
import shutil
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import httpx
import pytest
from hypothesis.configuration import set_hypothesis_home_dir
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from app.config import Settings
from app.database import create_engine
from app.main import create_app
from app.migrate import upgrade
from app.realtime.hub import Hub
from app.realtime.listener import EventListener
from app.services.audit import dispose_side_engines
from tests import db
from tests.accounts import make_account, open_session
from tests.roles import as_app_role

TEST_SECRET = "test-secret-key-not-for-production-use-0123456789"
TEST_PASSWORD = "correct horse battery"  # every make_user account signs in with it

# Tests write nothing into the tree (tests/tree_guard.py): Hypothesis keeps its files elsewhere.
_HYPOTHESIS_HOME = tempfile.mkdtemp(prefix="triage-hypothesis-")
set_hypothesis_home_dir(_HYPOTHESIS_HOME)
atexit.register(shutil.rmtree, _HYPOTHESIS_HOME, ignore_errors=True)
pytest_plugins = ["tests.tree_guard"]


@pytest.fixture(scope="session")
def server_url() -> str:
    return db.server_url()


@pytest.fixture(scope="session")
def database_url(server_url: str) -> Iterator[str]:
    """A database built by `alembic upgrade head`, for this test run only."""
    name = db.create_database(server_url)
    url = db.with_database(server_url, name)
    try:
        upgrade(url)
        yield url
    finally:
        db.drop_database(server_url, name)


@pytest.fixture(scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    # As the service's restricted role, as in production (tests/roles.py).
    engine = create_engine(as_app_role(database_url), pool_size=5)
    yield engine
    await engine.dispose()
    await dispose_side_engines()  # refused attempts are audited on connections of their own


@pytest.fixture
async def connection(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """One connection per test with an outer transaction that is always rolled back."""
    async with engine.connect() as connection:
        transaction = await connection.begin()
        try:
            yield connection
        finally:
            await transaction.rollback()


@pytest.fixture
def sessionmaker(connection: AsyncConnection) -> async_sessionmaker[AsyncSession]:
    # The application's commits become savepoint releases inside the test's transaction.
    return async_sessionmaker(
        bind=connection,
        expire_on_commit=False,
        autoflush=False,
        join_transaction_mode="create_savepoint",
    )


@pytest.fixture
async def session(sessionmaker: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    async with sessionmaker() as session:
        yield session


@pytest.fixture
def app(engine: AsyncEngine, sessionmaker: async_sessionmaker[AsyncSession]) -> Any:
    app = create_app(Settings(secret_key=TEST_SECRET))
    app.state.engine = engine
    app.state.sessionmaker = sessionmaker
    app.state.secret_key = TEST_SECRET
    app.state.instance_name = "test"
    app.state.hub = Hub()
    app.state.listener = EventListener("postgresql+asyncpg://unused/none", app.state.hub)
    return app


@pytest.fixture
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


MakeUser = Callable[..., Awaitable[dict[str, str]]]


@pytest.fixture
def make_user(session: AsyncSession) -> MakeUser:
    """Create a user, signed in, in the test transaction; returns its Authorization header."""
    counter = iter(range(1_000_000))

    async def make(role: str, *, unit: str | None = None, area: str = "default") -> dict[str, str]:
        username = f"{role}-{next(counter)}"
        user = await make_account(
            session, username, role, password=TEST_PASSWORD, unit=unit, area=area
        )
        token, _ = await open_session(session, user.id, secret=TEST_SECRET)
        await session.commit()
        return {"Authorization": f"Bearer {token}"}

    return make


Connect = Callable[..., Awaitable[None]]


@pytest.fixture
def connect(session: AsyncSession) -> Connect:
    """Mark units as having a crew member connected (offers go only to such units), as an
    instance's presence heartbeat does for an open websocket."""

    async def connect(*callsigns: str) -> None:
        await session.execute(
            text(
                "INSERT INTO unit_presence (unit_id, instance, seen_at)"
                " SELECT id, 'test', now() FROM units WHERE callsign = ANY(:callsigns)"
                " ON CONFLICT DO NOTHING"
            ),
            {"callsigns": list(callsigns)},
        )
        await session.commit()

    return connect


@pytest.fixture
async def handler(make_user: MakeUser) -> dict[str, str]:
    return await make_user("call_handler")


@pytest.fixture
async def supervisor(make_user: MakeUser) -> dict[str, str]:
    return await make_user("supervisor")


@pytest.fixture
async def admin(make_user: MakeUser) -> dict[str, str]:
    return await make_user("admin")


@pytest.fixture(scope="session")
def template_database(server_url: str) -> Iterator[str]:
    """A migrated database used only as a template for live tests' own databases."""
    name = db.create_database(server_url, prefix="triage_template")
    try:
        upgrade(db.with_database(server_url, name))
        yield name
    finally:
        db.drop_database(server_url, name)


@pytest.fixture
async def live_database(server_url: str, template_database: str) -> AsyncIterator[str]:
    """A fresh, migrated database for one live test (a copy of the template)."""
    name = await db.create_database_async(server_url, template=template_database)
    try:
        yield db.with_database(server_url, name)
    finally:
        await db.drop_database_async(server_url, name)


@pytest.fixture
async def start_server(live_database: str, tmp_path: Any) -> AsyncIterator[Callable[..., Any]]:
    """Start real `python -m app serve` processes on the test's database; all stopped after."""
    from tests.live import LiveServer

    servers: list[LiveServer] = []

    async def start(name: str = "a", **env: str) -> LiveServer:
        server = LiveServer(live_database, tmp_path, name, **env)
        servers.append(server)
        return await server.start()

    yield start
    for server in servers:
        await server.stop()
