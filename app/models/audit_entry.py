from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Index, String, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base


class AuditEntry(Base):
    """Who did what to which record, when, from which request. Append-only: a trigger in the
    database refuses UPDATE, DELETE and TRUNCATE (see the first migration)."""

    __tablename__ = "audit_entries"
    __table_args__ = (Index("ix_audit_entries_subject", "subject_type", "subject_id"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    at: Mapped[datetime] = mapped_column(server_default=func.now())
    actor_id: Mapped[int | None]
    actor_username: Mapped[str] = mapped_column(String(80))
    actor_role: Mapped[str] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(String(60))
    subject_type: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[str | None] = mapped_column(String(80))
    request_id: Mapped[str | None] = mapped_column(String(80))
    client_ip: Mapped[str | None] = mapped_column(String(64))
    # allowed, or denied (an attempt refused: written in its own transaction, so the request's
    # rollback does not erase it).
    outcome: Mapped[str] = mapped_column(String(10), default="allowed", server_default="allowed")
    session_id: Mapped[str | None] = mapped_column(String(40))
    detail: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
