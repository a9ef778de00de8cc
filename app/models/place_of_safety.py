from sqlalchemy import Float, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, TimestampMixin

PLACE_TYPES = (
    "health_based_place_of_safety",
    "emergency_department",
    "police_station",
    "private_home",
    "other",
)


class PlaceOfSafety(TimestampMixin, Base):
    """A place a person detained under s135/s136 may be taken to. Exclusions are shown to crews,
    never used to filter a person out silently (S5)."""

    __tablename__ = "places_of_safety"

    id: Mapped[int] = mapped_column(primary_key=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(40))
    available_beds: Mapped[int] = mapped_column(default=0)
    accepts_under_18: Mapped[bool] = mapped_column(default=False)
    exclusions: Mapped[str | None] = mapped_column(Text)
    # Where it is, so a tablet can list the nearest suitable place first.
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
