"""The service's database role cannot erase the audit: it may read it and append to it, and do
its ordinary work on every other table, but not update, delete or truncate audit rows, nor drop
or disable the trigger that keeps the table append-only (it does not own the table)."""

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from tests.live import add_user
from tests.roles import APP_ROLE

INSERT_AUDIT = (
    "INSERT INTO audit_entries (actor_username, actor_role, action, subject_type, detail)"
    " VALUES ('t', 'admin', 'role-test', 'test', '{}')"
)


async def test_the_service_under_test_runs_as_the_restricted_role(connection):
    assert await connection.scalar(text("SELECT current_user")) == APP_ROLE
    is_super = await connection.scalar(
        text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
    )
    owner = await connection.scalar(
        text("SELECT tableowner FROM pg_tables WHERE tablename = 'audit_entries'")
    )
    assert not is_super and owner != APP_ROLE


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_entries SET action = 'tampered'",
        "DELETE FROM audit_entries",
        "TRUNCATE audit_entries",
        "DROP TRIGGER audit_entries_append_only ON audit_entries",
        "ALTER TABLE audit_entries DISABLE TRIGGER USER",
        "ALTER TABLE audit_entries OWNER TO CURRENT_USER",
        "DROP TABLE audit_entries",
        "CREATE OR REPLACE FUNCTION audit_entries_refuse_change() RETURNS trigger"
        " LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$",
    ],
)
async def test_the_application_role_cannot_change_or_erase_the_audit(connection, statement):
    await connection.execute(text(INSERT_AUDIT))
    savepoint = await connection.begin_nested()
    with pytest.raises(DBAPIError) as refused:
        await connection.execute(text(statement))
    await savepoint.rollback()
    # Refused for want of privilege or ownership, not by luck (e.g. a misspelt name).
    assert "permission denied" in str(refused.value) or "must be owner" in str(refused.value)
    rows = await connection.scalar(
        text("SELECT count(*) FROM audit_entries WHERE action = 'role-test'")
    )
    assert rows == 1


async def test_the_application_role_cannot_grant_itself_more(connection):
    # Not an error in PostgreSQL (a warning: "no privileges were granted"), so check the result.
    await connection.execute(
        text("GRANT UPDATE, DELETE, TRUNCATE ON audit_entries TO CURRENT_USER")
    )
    held = await connection.execute(
        text(
            "SELECT has_table_privilege('audit_entries', 'UPDATE'),"
            " has_table_privilege('audit_entries', 'DELETE'),"
            " has_table_privilege('audit_entries', 'TRUNCATE'),"
            " has_table_privilege('audit_entries', 'TRIGGER'),"
            " has_table_privilege('audit_entries', 'INSERT'),"
            " has_table_privilege('audit_entries', 'SELECT')"
        )
    )
    assert tuple(held.one()) == (False, False, False, False, True, True)


async def test_the_trigger_is_there_to_be_protected(connection):
    names = set(
        await connection.scalars(
            text(
                "SELECT tgname FROM pg_trigger WHERE tgrelid = 'audit_entries'::regclass"
                " AND NOT tgisinternal"
            )
        )
    )
    assert "audit_entries_append_only" in names


async def test_the_application_role_does_its_ordinary_work(connection):
    """Reads and writes the other tables (sequences included), and appends to the audit."""
    await connection.execute(text(INSERT_AUDIT))
    area = await connection.scalar(
        text(
            "INSERT INTO areas (code, name, rule_set, rcrp_scope, handover_goal_minutes,"
            " handover_warning_minutes, ack_timeout_seconds)"
            " VALUES ('role-test', 'x', 'default', '{}', 60, 45, 120) RETURNING id"
        )
    )
    await connection.execute(text("UPDATE areas SET name = 'y' WHERE id = :id"), {"id": area})
    await connection.execute(text("DELETE FROM areas WHERE id = :id"), {"id": area})
    assert await connection.scalar(text("SELECT version_num FROM alembic_version"))


async def test_a_live_server_connects_as_the_restricted_role(start_server, live_database):
    """`python -m app serve` with DATABASE_URL naming the application role and
    MIGRATION_DATABASE_URL the owner: it migrates as the owner and serves as the role."""
    import asyncpg
    from sqlalchemy.engine import make_url

    server = await start_server()
    await add_user(live_database, "supervisor")
    dsn = make_url(live_database).set(drivername="postgresql").render_as_string(False)
    observer = await asyncpg.connect(dsn)
    try:
        users = {
            row["usename"]
            for row in await observer.fetch(
                "SELECT usename FROM pg_stat_activity"
                " WHERE datname = current_database() AND application_name LIKE 'street-triage%'"
            )
        }
    finally:
        await observer.close()
    assert server.process is not None and server.process.poll() is None
    assert users == {APP_ROLE}


def test_migrations_need_the_owner_and_a_refused_one_leaves_no_lock(server_url):
    """The application role cannot migrate (no CREATE); the refusal does not leave the
    migration lock held, so the owner's migration that follows is not blocked. At head, the
    application role may run `migrate` (it only reads alembic_version): an instance given only
    its own URL starts."""
    import asyncio

    import asyncpg
    from sqlalchemy.engine import make_url

    from app.migrate import upgrade
    from tests import db
    from tests.roles import as_app_role

    name = db.create_database(server_url, prefix="triage_roles")
    url = db.with_database(server_url, name)

    async def migration_locks() -> int:
        dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        connection = await asyncpg.connect(dsn)
        try:
            return await connection.fetchval(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = 7136001"
                # locks are listed for the whole server: only this database's
                " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            )
        finally:
            await connection.close()

    try:
        with pytest.raises(DBAPIError, match="permission denied"):
            upgrade(as_app_role(url))
        assert asyncio.run(migration_locks()) == 0
        upgrade(url)
        upgrade(as_app_role(url))  # already at head: nothing to do, nothing refused
    finally:
        db.drop_database(server_url, name)
