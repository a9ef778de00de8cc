"""caller and nurse advice

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 21:54:44.207366
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("assignments", sa.Column("advice", sa.Text(), nullable=True))
    op.add_column("assignments", sa.Column("s136_used", sa.Boolean(), nullable=True))
    op.add_column("assignments", sa.Column("advice_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column(
        "incidents",
        sa.Column(
            "caller", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False
        ),
    )


def downgrade() -> None:
    op.drop_column("incidents", "caller")
    op.drop_column("assignments", "advice_at")
    op.drop_column("assignments", "s136_used")
    op.drop_column("assignments", "advice")
