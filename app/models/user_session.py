from datetime import datetime
from uuid import UUID

from sqlalchemy import ForeignKey, Index, String, func, text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base


class UserSession(Base):
    """A signed-in session, server side: the access token carries its id, so it can be revoked
    (sign-out, an account disabled, a password reset) and it ends when idle too long or at the
    end of a shift, whatever the token says."""

    __tablename__ = "sessions"
    __table_args__ = (
        Index("ix_sessions_user_id_open", "user_id", postgresql_where=text("revoked_at IS NULL")),
    )

    id: Mapped[UUID] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    # Renewed by use (at most once a minute); the session ends `idle` after it.
    last_seen_at: Mapped[datetime] = mapped_column(server_default=func.now())
    # The shift-long limit, fixed at sign-in.
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    # signed_out | disabled | password_reset | revoked_by_admin | …
    revoked_reason: Mapped[str | None] = mapped_column(String(40))
    client_ip: Mapped[str | None] = mapped_column(String(64))
