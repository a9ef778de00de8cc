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
    # Risk to life (police_immediate, police_and_triage): a shorter limit to accept an offer.
    urgent_ack_timeout_seconds: Mapped[int] = mapped_column(default=30, server_default="30")
    # An incident that sends no unit must be handed off (or closed) within this time.
    task_limit_minutes: Mapped[int] = mapped_column(default=10, server_default="10")
    # An open escalation is announced again this often until a supervisor acknowledges it.
    escalation_repeat_seconds: Mapped[int] = mapped_column(default=120, server_default="120")
    # An accepted job with no status change for this long is escalated (stale_job).
    stale_job_minutes: Mapped[int] = mapped_column(default=20, server_default="20")
    # Need to know: a crew keeps access to an incident's person data this long after clearing.
    crew_access_hours: Mapped[int] = mapped_column(default=12, server_default="12")
    # Person data of a closed incident is pseudonymised this long after it closed.
    retention_days: Mapped[int] = mapped_column(default=365, server_default="365")
    # Per type of place: {"emergency_department": {"goal": 90, "warning": 70}} or null for no
    # handover goal at that type of place; types not listed use the area's goal and warning.
    handover_goals_by_place_type: Mapped[dict[str, Any]] = mapped_column(
        JSONB, default=dict, server_default="{}"
    )
