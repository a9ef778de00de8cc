from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, TimestampMixin

ROLES = ("call_handler", "crew", "nurse", "supervisor", "admin")


class User(TimestampMixin, Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20))
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id"))
    # A crew (or nurse desk) account is bound to one unit by its callsign.
    unit_callsign: Mapped[str | None] = mapped_column(String(20))
    active: Mapped[bool] = mapped_column(default=True)
    # Set when the password changes (every session from before it is revoked).
    password_changed_at: Mapped[datetime | None]
