"""The audit table is append-only: the database itself refuses UPDATE, DELETE and TRUNCATE, even
to the owner (the service's own role may not even try: tests/test_database_roles.py)."""

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from app.database import create_engine


@pytest.fixture
async def owner_connection(database_url: str) -> AsyncIterator[AsyncConnection]:
    engine = create_engine(database_url, pool_size=1)
    try:
        async with engine.connect() as connection:
            transaction = await connection.begin()
            try:
                yield connection
            finally:
                await transaction.rollback()
    finally:
        await engine.dispose()


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_entries SET action = 'tampered'",
        "DELETE FROM audit_entries",
        "TRUNCATE audit_entries",
    ],
)
async def test_database_refuses_changes(owner_connection, statement):
    connection = owner_connection
    await connection.execute(
        text(
            "INSERT INTO audit_entries (actor_username, actor_role, action, subject_type, detail)"
            " VALUES ('t', 'admin', 'test', 'test', '{}')"
        )
    )
    savepoint = await connection.begin_nested()
    with pytest.raises(DBAPIError, match="append-only"):
        await connection.execute(text(statement))
    await savepoint.rollback()
    count = await connection.scalar(
        text("SELECT count(*) FROM audit_entries WHERE action = 'test'")
    )
    assert count == 1
