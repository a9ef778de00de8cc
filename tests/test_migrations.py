"""The schema comes only from migrations: upgrade from empty, downgrade cleanly, upgrade again."""

import asyncpg
from sqlalchemy.engine import make_url

from app.migrate import downgrade, upgrade
from app.models import Base
from tests import db


def _tables(url: str) -> set[str]:
    import asyncio

    async def read() -> set[str]:
        dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        connection = await asyncpg.connect(dsn)
        try:
            rows = await connection.fetch(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
            )
            return {r["tablename"] for r in rows}
        finally:
            await connection.close()

    return asyncio.run(read())


def test_upgrade_downgrade_upgrade(server_url):
    name = db.create_database(server_url, prefix="triage_migrations")
    url = db.with_database(server_url, name)
    try:
        upgrade(url)
        assert set(Base.metadata.tables) | {"alembic_version"} == _tables(url)
        downgrade(url, "base")
        assert _tables(url) <= {"alembic_version"}
        upgrade(url)
        assert set(Base.metadata.tables) <= _tables(url)
    finally:
        db.drop_database(server_url, name)
