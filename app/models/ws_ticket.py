from datetime import datetime
from uuid import UUID

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base


class WsTicket(Base):
    """A single-use ticket to open a websocket, valid for 30 seconds, so no long-lived secret
    ever appears in a URL (and so in an access log). Only its hash is stored."""

    __tablename__ = "ws_tickets"

    ticket_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    session_id: Mapped[UUID] = mapped_column(ForeignKey("sessions.id"), index=True)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    used_at: Mapped[datetime | None]
