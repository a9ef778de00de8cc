"""The audit table is append-only: the database itself refuses UPDATE, DELETE and TRUNCATE."""

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_entries SET action = 'tampered'",
        "DELETE FROM audit_entries",
        "TRUNCATE audit_entries",
    ],
)
async def test_database_refuses_changes(connection, statement):
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
