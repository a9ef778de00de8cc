from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text, func, text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base

ESCALATION_REASONS = (
    "no_unit_available",
    "no_unit_accepted",
    "handoff_overdue",
    "stale_job",
    "clock_breached",
    "place_refused",
    "possible_duplicate_detention",
)


class Escalation(Base):
    """Something a supervisor must own until it is resolved: raised by the service, announced
    again every `escalation_repeat_seconds` of the area until a supervisor acknowledges it (who,
    when, what was done).

    `dedupe_key` names the situation (e.g. `no_unit_available:12:triage_car`): while one is open,
    the same situation is not raised twice (a partial unique index enforces it across instances).
    """

    __tablename__ = "escalations"
    __table_args__ = (
        Index(
            "uq_escalations_open_dedupe_key",
            "area_id",
            "dedupe_key",
            unique=True,
            postgresql_where=text("acknowledged_at IS NULL"),
        ),
        Index(
            "ix_escalations_next_announce_at",
            "next_announce_at",
            postgresql_where=text("acknowledged_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id"))
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id"), index=True)
    reason: Mapped[str] = mapped_column(String(40))
    # immediate | urgent | routine: how the person's risk ranks the escalation on the dashboard.
    risk: Mapped[str] = mapped_column(String(20))
    detail: Mapped[str] = mapped_column(Text)
    dedupe_key: Mapped[str] = mapped_column(String(120))
    raised_at: Mapped[datetime] = mapped_column(server_default=func.now())
    announced_count: Mapped[int] = mapped_column(default=1)
    next_announce_at: Mapped[datetime | None]
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str | None] = mapped_column(Text)
