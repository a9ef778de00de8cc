from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base

if TYPE_CHECKING:
    from app.models.user import User

HANDOFF_TARGETS = ("nhs_111", "ambulance_service", "health_provider", "police", "other")


class Handoff(Base):
    """An incident passed to an agency this service does not dispatch (NHS 111's mental health
    option, the ambulance service, the person's health provider, a police resource), with the
    reference that agency gave. Each hand-off is a row; an incident may be passed to several."""

    __tablename__ = "handoffs"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    to: Mapped[str] = mapped_column(String(30))
    reference: Mapped[str | None] = mapped_column(String(200))
    at: Mapped[datetime]
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())

    recorded_by: Mapped["User"] = relationship(lazy="raise")
