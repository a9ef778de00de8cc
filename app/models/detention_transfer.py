from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base


class DetentionTransfer(Base):
    """S10: the person moved from one place of safety to another during the detention
    (s136(3)). `at` is the arrival at the new place, where a new handover clock starts; the
    24-hour detention clock keeps running from the first arrival."""

    __tablename__ = "detention_transfers"

    id: Mapped[int] = mapped_column(primary_key=True)
    detention_id: Mapped[int] = mapped_column(ForeignKey("detentions.id"), index=True)
    at: Mapped[datetime]
    from_place_id: Mapped[int | None] = mapped_column(ForeignKey("places_of_safety.id"))
    to_place_id: Mapped[int] = mapped_column(ForeignKey("places_of_safety.id"))
    vehicle: Mapped[str] = mapped_column(String(30))
    reason: Mapped[str | None] = mapped_column(Text)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
