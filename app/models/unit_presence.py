from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base


class UnitPresence(Base):
    """A unit has a crew member connected on an instance: one row per (unit, instance), its
    `seen_at` renewed by the instance's heartbeat while a socket is open. Dispatch offers work
    only to units seen within the presence window (30 s), so a unit whose crew closed the
    tablet, or whose instance died, stops getting offers within that time.

    A table of its own, not a column on `units`: the heartbeat must never lock unit rows, or
    dispatch (`FOR UPDATE SKIP LOCKED`) would skip a unit while it is being renewed."""

    __tablename__ = "unit_presence"

    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), primary_key=True)
    instance: Mapped[str] = mapped_column(String(120), primary_key=True)
    seen_at: Mapped[datetime]
