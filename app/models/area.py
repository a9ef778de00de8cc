from typing import Any

from sqlalchemy import String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, TimestampMixin


class Area(TimestampMixin, Base):
    """One local partnership (a police force with its health partners) and its local settings."""

    __tablename__ = "areas"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    rule_set: Mapped[str] = mapped_column(String(80), default="default")
    # {"categories": [...] | null (all), "min_age": int}
    rcrp_scope: Mapped[dict[str, Any]] = mapped_column(JSONB)
    handover_goal_minutes: Mapped[int] = mapped_column(default=60)
    handover_warning_minutes: Mapped[int] = mapped_column(default=45)
    ack_timeout_seconds: Mapped[int] = mapped_column(default=120)
    # Per type of place: {"emergency_department": {"goal": 90, "warning": 70}} or null for no
    # handover goal at that type of place; types not listed use the area's goal and warning.
    handover_goals_by_place_type: Mapped[dict[str, Any]] = mapped_column(
        JSONB, default=dict, server_default="{}"
    )
