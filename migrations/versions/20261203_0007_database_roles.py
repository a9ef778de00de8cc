"""database roles

Issue 9: the service runs as a restricted application role that cannot erase the audit. The
owner (the role running migrations) keeps the tables, and with them the right to alter them or
drop the audit's append-only trigger; the application role (setting DATABASE_APP_ROLE, default
`street_triage_app`) gets SELECT, INSERT, UPDATE and DELETE on the ordinary tables, only SELECT
and INSERT on `audit_entries` (no UPDATE, DELETE, TRUNCATE, TRIGGER, nor ownership), SELECT on
`alembic_version` (so a service started without the owner's URL can see the schema is current),
and use of the sequences. Tables later migrations create get the same grants by default
privileges; one that must be append-only revokes them itself, as this one does for the audit.

The role is created (LOGIN, no password: set one, see docs/security.md) when missing and the
owner may create roles; otherwise the grants wait for it (a NOTICE says so) and a single-role
deployment (embedded, dev) is unaffected.

Also: an index on the incident ids an audit row names in `detail.incident_ids` (a list read, or
summaries delivered over a websocket), so "who saw this record" finds those rows as well.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 09:00:00
"""

import re
from collections.abc import Sequence

from alembic import context, op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def app_role() -> str:
    """From `app.migrate.upgrade(..., app_role=)`, else the setting (alembic run by hand)."""
    role = context.config.attributes.get("app_role")
    if role is None:
        from app.config import get_settings

        role = get_settings().database_app_role
    if not _ROLE_NAME.match(role):  # it is spliced into SQL as an identifier
        raise ValueError(f"not a plain role name: {role!r}")
    return role


def _grants(role: str) -> str:
    return f"""
        GRANT USAGE ON SCHEMA public TO "{role}";
        GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO "{role}";
        REVOKE ALL ON audit_entries FROM "{role}";
        GRANT SELECT, INSERT ON audit_entries TO "{role}";
        REVOKE ALL ON alembic_version FROM "{role}";
        GRANT SELECT ON alembic_version TO "{role}";
        GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO "{role}";
        ALTER DEFAULT PRIVILEGES IN SCHEMA public
            GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO "{role}";
        ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO "{role}";
    """


def upgrade() -> None:
    role = app_role()
    # One DO block: the role is created only if missing (several databases on one server may
    # migrate at once, hence the duplicate handlers), and the grants are skipped when the owner
    # is that role (one role for everything, as in dev) or the role cannot exist here.
    # The role name is checked against a plain-identifier pattern above (S608: no injection).
    op.execute(f"""
        DO $migration$
        BEGIN
            IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') THEN
                BEGIN
                    CREATE ROLE "{role}" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT;
                EXCEPTION
                    WHEN duplicate_object OR unique_violation THEN NULL;
                    WHEN insufficient_privilege THEN
                        RAISE NOTICE 'role % is missing and % may not create it: create it, '
                            'then run the migration again to grant it its privileges',
                            '{role}', current_user;
                END;
            END IF;
            IF EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}')
               AND current_user <> '{role}' THEN
                {_grants(role)}
            END IF;
        END
        $migration$
    """)  # noqa: S608
    op.execute(
        "CREATE INDEX ix_audit_entries_incident_ids ON audit_entries"
        " USING gin ((detail -> 'incident_ids') jsonb_path_ops)"
    )


def downgrade() -> None:
    op.execute("DROP INDEX ix_audit_entries_incident_ids")
    role = app_role()
    op.execute(f"""
        DO $migration$
        BEGIN
            IF EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}')
               AND current_user <> '{role}' THEN
                ALTER DEFAULT PRIVILEGES IN SCHEMA public
                    REVOKE SELECT, INSERT, UPDATE, DELETE ON TABLES FROM "{role}";
                ALTER DEFAULT PRIVILEGES IN SCHEMA public
                    REVOKE USAGE, SELECT ON SEQUENCES FROM "{role}";
                REVOKE ALL ON ALL TABLES IN SCHEMA public FROM "{role}";
                REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM "{role}";
                REVOKE USAGE ON SCHEMA public FROM "{role}";
            END IF;
        END
        $migration$
    """)  # noqa: S608
