from datetime import datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, String, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, TimestampMixin

UNIT_KINDS = ("triage_car", "nurse_desk")
UNIT_STATUSES = (
    "available",
    "en_route",
    "on_scene",
    "conveying",
    "at_place_of_safety",
    "off_duty",
)


class Unit(TimestampMixin, Base):
    """A street triage car (officer + nurse) or the mental-health nurse desk."""

    __tablename__ = "units"

    id: Mapped[int] = mapped_column(primary_key=True)
    callsign: Mapped[str] = mapped_column(String(20), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id"), index=True)
    crew: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    status: Mapped[str] = mapped_column(String(30), default="off_duty")
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    # Since when the unit has been in its status: "longest idle" breaks distance ties.
    status_since: Mapped[datetime] = mapped_column(server_default=func.now())
    # Offers and jobs the unit holds now. Dispatch takes only units with none; it is a column on
    # the unit row so that two dispatches racing for one car serialise on that row's lock.
    active_assignments: Mapped[int] = mapped_column(default=0)
