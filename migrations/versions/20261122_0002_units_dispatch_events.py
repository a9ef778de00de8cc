"""units dispatch events

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 21:11:55.205514
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "event_retention",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("purged_through", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_retention")),
    )
    op.create_table(
        "events",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("type", sa.String(length=40), nullable=False),
        sa.Column(
            "at",
            sa.DateTime(timezone=True),
            server_default=sa.text("clock_timestamp()"),
            nullable=False,
        ),
        sa.Column("area_id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=True),
        sa.Column("unit_callsign", sa.String(length=20), nullable=True),
        sa.Column("audience", postgresql.ARRAY(sa.String(length=20)), nullable=False),
        sa.Column("data", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("restricted", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.ForeignKeyConstraint(["area_id"], ["areas.id"], name=op.f("fk_events_area_id_areas")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
    )
    op.create_index(op.f("ix_events_at"), "events", ["at"], unique=False)
    op.create_table(
        "units",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("callsign", sa.String(length=20), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("area_id", sa.Integer(), nullable=False),
        sa.Column("crew", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("status", sa.String(length=30), nullable=False),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column(
            "status_since",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("active_assignments", sa.Integer(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(["area_id"], ["areas.id"], name=op.f("fk_units_area_id_areas")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_units")),
        sa.UniqueConstraint("callsign", name=op.f("uq_units_callsign")),
    )
    op.create_index(op.f("ix_units_area_id"), "units", ["area_id"], unique=False)
    op.create_table(
        "assignments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column(
            "offered_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("responded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("decline_reason", sa.Text(), nullable=True),
        sa.Column("offered_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incidents.id"], name=op.f("fk_assignments_incident_id_incidents")
        ),
        sa.ForeignKeyConstraint(
            ["offered_by_id"], ["users.id"], name=op.f("fk_assignments_offered_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_assignments_unit_id_units")
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"], ["users.id"], name=op.f("fk_assignments_updated_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assignments")),
    )
    op.create_index(
        op.f("ix_assignments_incident_id"), "assignments", ["incident_id"], unique=False
    )
    op.create_index(
        "ix_assignments_pending_expiry",
        "assignments",
        ["expires_at"],
        unique=False,
        postgresql_where=sa.text("status = 'offered'"),
    )
    op.create_index(op.f("ix_assignments_unit_id"), "assignments", ["unit_id"], unique=False)
    op.execute("INSERT INTO event_retention (id, purged_through) VALUES (1, 0)")


def downgrade() -> None:
    op.drop_index(op.f("ix_assignments_unit_id"), table_name="assignments")
    op.drop_index(
        "ix_assignments_pending_expiry",
        table_name="assignments",
        postgresql_where=sa.text("status = 'offered'"),
    )
    op.drop_index(op.f("ix_assignments_incident_id"), table_name="assignments")
    op.drop_table("assignments")
    op.drop_index(op.f("ix_units_area_id"), table_name="units")
    op.drop_table("units")
    op.drop_index(op.f("ix_events_at"), table_name="events")
    op.drop_table("events")
    op.drop_table("event_retention")
