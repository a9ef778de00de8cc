from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Identity, String, func
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base


class Event(Base):
    """A live event, written in the same transaction as the change it describes.

    Ids are taken under a transaction-level advisory lock (see app/realtime/outbox.py), so they
    become visible in id order and a reader that asks for `id > cursor` never skips one.
    Who may receive it: supervisors of the area; the unit named by `unit_callsign` (its crew or
    nurse desk), with `restricted`; and any role in `audience`, in the area, without it.
    """

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    type: Mapped[str] = mapped_column(String(40))
    at: Mapped[datetime] = mapped_column(server_default=func.clock_timestamp(), index=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id"))
    incident_id: Mapped[int | None]
    unit_callsign: Mapped[str | None] = mapped_column(String(20))
    audience: Mapped[list[str]] = mapped_column(ARRAY(String(20)), default=list)
    data: Mapped[dict[str, Any]] = mapped_column(JSONB)
    # The need-to-know incident summary: only for the unit's own crew and supervisors.
    restricted: Mapped[dict[str, Any] | None] = mapped_column(JSONB)


class EventRetention(Base):
    """One row: the highest event id purged so far, to tell a client its cursor is too old."""

    __tablename__ = "event_retention"

    id: Mapped[int] = mapped_column(primary_key=True, default=1)
    purged_through: Mapped[int] = mapped_column(BigInteger, default=0)
