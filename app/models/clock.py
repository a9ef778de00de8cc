from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, text
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
        UniqueConstraint("detention_id", "kind"),
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
    fired: Mapped[list[str]] = mapped_column(ARRAY(String(20)), default=list)
    next_due_at: Mapped[datetime | None]
