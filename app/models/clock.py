from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base


class Clock(Base):
    """One running or stopped clock of a detention: handover (S8), assessment (S7), detention
    (S2) or welfare check (S4). The goal is fixed when the clock starts (an area's later change
    applies to clocks that start afterwards). `fired` lists the thresholds already announced;
    `next_due_at` is when the next one falls due, for the worker's claim query."""

    __tablename__ = "clocks"
    __table_args__ = (
        # One running clock of each kind per detention; a transfer stops the handover clock at
        # the first place and starts another at the next (S10).
        Index(
            "uq_clocks_running_kind",
            "detention_id",
            "kind",
            unique=True,
            postgresql_where=text("stopped_at IS NULL"),
        ),
        Index(
            "ix_clocks_next_due_at", "next_due_at", postgresql_where=text("next_due_at IS NOT NULL")
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    detention_id: Mapped[int] = mapped_column(ForeignKey("detentions.id"))
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id"))
    kind: Mapped[str] = mapped_column(String(20))
    started_at: Mapped[datetime]
    goal_minutes: Mapped[int]
    warning_minutes: Mapped[int | None]
    agreed: Mapped[bool] = mapped_column(default=False)
    stopped_at: Mapped[datetime | None]
    # Why it stopped: handed_over | transferred | ended (an outcome with no handover is not a
    # handover) | assessed | extended… ; null while running.
    stop_reason: Mapped[str | None] = mapped_column(String(30))
    # Handover clocks: the place it runs at, and who there took the person.
    place_of_safety_id: Mapped[int | None] = mapped_column(ForeignKey("places_of_safety.id"))
    received_by: Mapped[str | None] = mapped_column(String(200))
    fired: Mapped[list[str]] = mapped_column(ARRAY(String(20)), default=list)
    next_due_at: Mapped[datetime | None]
