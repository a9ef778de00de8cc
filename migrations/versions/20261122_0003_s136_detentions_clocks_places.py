"""s136 detentions clocks places

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 21:35:06.676285
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "places_of_safety",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("area_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("type", sa.String(length=40), nullable=False),
        sa.Column("available_beds", sa.Integer(), nullable=False),
        sa.Column("accepts_under_18", sa.Boolean(), nullable=False),
        sa.Column("exclusions", sa.Text(), nullable=True),
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
        sa.ForeignKeyConstraint(
            ["area_id"], ["areas.id"], name=op.f("fk_places_of_safety_area_id_areas")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_places_of_safety")),
    )
    op.create_index(
        op.f("ix_places_of_safety_area_id"), "places_of_safety", ["area_id"], unique=False
    )
    op.create_table(
        "detentions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("area_id", sa.Integer(), nullable=False),
        sa.Column("unit_callsign", sa.String(length=20), nullable=True),
        sa.Column("power", sa.String(length=10), nullable=False),
        sa.Column("detained_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("consulted_who", sa.String(length=20), nullable=True),
        sa.Column("consulted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("not_consulted_reason", sa.Text(), nullable=True),
        sa.Column("place_of_safety_id", sa.Integer(), nullable=True),
        sa.Column("place_type", sa.String(length=40), nullable=False),
        sa.Column("police_station_reason", sa.Text(), nullable=True),
        sa.Column("authorised_by", sa.String(length=200), nullable=True),
        sa.Column("review_required", sa.Boolean(), nullable=False),
        sa.Column("vehicle", sa.String(length=30), nullable=False),
        sa.Column("ambulance_requested", sa.Boolean(), nullable=True),
        sa.Column("police_vehicle_reason", sa.Text(), nullable=True),
        sa.Column("person_age", sa.Integer(), nullable=True),
        sa.Column("person_gender", sa.String(length=20), nullable=False),
        sa.Column("person_ethnicity", sa.String(length=20), nullable=False),
        sa.Column("arrived_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("handover_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("received_by", sa.String(length=200), nullable=True),
        sa.Column("handover_agreed_by", sa.String(length=200), nullable=True),
        sa.Column("handover_agreed_reason", sa.Text(), nullable=True),
        sa.Column("assessment_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("extension_hours", sa.Integer(), nullable=False),
        sa.Column("extension_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("extension_by", sa.String(length=200), nullable=True),
        sa.Column("extension_reason", sa.Text(), nullable=True),
        sa.Column("extension_superintendent", sa.String(length=200), nullable=True),
        sa.Column("outcome", sa.String(length=40), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=False),
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
        sa.ForeignKeyConstraint(
            ["area_id"], ["areas.id"], name=op.f("fk_detentions_area_id_areas")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_detentions_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incidents.id"], name=op.f("fk_detentions_incident_id_incidents")
        ),
        sa.ForeignKeyConstraint(
            ["place_of_safety_id"],
            ["places_of_safety.id"],
            name=op.f("fk_detentions_place_of_safety_id_places_of_safety"),
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"], ["users.id"], name=op.f("fk_detentions_updated_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_detentions")),
        sa.UniqueConstraint("incident_id", name=op.f("uq_detentions_incident_id")),
    )
    op.create_index(op.f("ix_detentions_area_id"), "detentions", ["area_id"], unique=False)
    op.create_index(op.f("ix_detentions_detained_at"), "detentions", ["detained_at"], unique=False)
    op.create_table(
        "clocks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("detention_id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("area_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("goal_minutes", sa.Integer(), nullable=False),
        sa.Column("warning_minutes", sa.Integer(), nullable=True),
        sa.Column("agreed", sa.Boolean(), nullable=False),
        sa.Column("stopped_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("fired", postgresql.ARRAY(sa.String(length=20)), nullable=False),
        sa.Column("next_due_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["area_id"], ["areas.id"], name=op.f("fk_clocks_area_id_areas")),
        sa.ForeignKeyConstraint(
            ["detention_id"], ["detentions.id"], name=op.f("fk_clocks_detention_id_detentions")
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incidents.id"], name=op.f("fk_clocks_incident_id_incidents")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clocks")),
        sa.UniqueConstraint("detention_id", "kind", name=op.f("uq_clocks_detention_id")),
    )
    op.create_index(op.f("ix_clocks_incident_id"), "clocks", ["incident_id"], unique=False)
    op.create_index(
        "ix_clocks_next_due_at",
        "clocks",
        ["next_due_at"],
        unique=False,
        postgresql_where=sa.text("next_due_at IS NOT NULL"),
    )
    op.add_column(
        "areas",
        sa.Column(
            "handover_goals_by_place_type",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default="{}",
            nullable=False,
        ),
    )


def downgrade() -> None:
    op.drop_column("areas", "handover_goals_by_place_type")
    op.drop_index(
        "ix_clocks_next_due_at",
        table_name="clocks",
        postgresql_where=sa.text("next_due_at IS NOT NULL"),
    )
    op.drop_index(op.f("ix_clocks_incident_id"), table_name="clocks")
    op.drop_table("clocks")
    op.drop_index(op.f("ix_detentions_detained_at"), table_name="detentions")
    op.drop_index(op.f("ix_detentions_area_id"), table_name="detentions")
    op.drop_table("detentions")
    op.drop_index(op.f("ix_places_of_safety_area_id"), table_name="places_of_safety")
    op.drop_table("places_of_safety")
