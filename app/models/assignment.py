from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index, String, Text, func, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base

if TYPE_CHECKING:
    from app.models.unit import Unit
    from app.models.user import User

ASSIGNMENT_STATUSES = (
    "offered",
    "accepted",
    "declined",
    "expired",
    "cancelled",
    "withdrawn",
    "en_route",
    "on_scene",
    "cleared",
)
ACTIVE_STATUSES = ("offered", "accepted", "en_route", "on_scene")


class Assignment(Base):
    """An incident offered to a unit: offered → accepted | declined | expired (| cancelled by a
    person, | withdrawn when a changed decision no longer needs the unit) → en_route → on_scene
    → cleared."""

    __tablename__ = "assignments"
    __table_args__ = (
        # The expiry worker's claim query reads only pending offers, by due time.
        Index(
            "ix_assignments_pending_expiry",
            "expires_at",
            postgresql_where=text("status = 'offered'"),
        ),
        Index("ix_assignments_stale_at", "stale_at", postgresql_where=text("stale_at IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="offered")
    offered_at: Mapped[datetime] = mapped_column(server_default=func.now())
    expires_at: Mapped[datetime]
    responded_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())
    decline_reason: Mapped[str | None] = mapped_column(Text)
    # The nurse desk's advice to an officer, and whether s136 was then used.
    advice: Mapped[str | None] = mapped_column(Text)
    s136_used: Mapped[bool | None]
    advice_at: Mapped[datetime | None]
    # Null: offered by the service's own dispatch; else the person who dispatched by hand.
    offered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # An accepted job with no status change by this time is escalated (stale_job); re-armed on
    # each change, null once the job is over or already escalated.
    stale_at: Mapped[datetime | None]

    unit: Mapped["Unit"] = relationship(lazy="raise")
    offered_by: Mapped["User | None"] = relationship(foreign_keys=[offered_by_id], lazy="raise")
