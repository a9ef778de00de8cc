from datetime import datetime

from sqlalchemy import ForeignKey, Index, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base


class DispatchWait(Base):
    """An incident waiting for a unit of a kind: nobody connected and free could be offered it,
    or every one offered let it go. A worker offers the oldest, highest-risk wait to the first
    unit of that kind that comes free; the row goes when an offer is made or the incident
    closes."""

    __tablename__ = "dispatch_waits"
    __table_args__ = (
        Index("ix_dispatch_waits_queue", "area_id", "unit_kind", "risk_rank", "since"),
    )

    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), primary_key=True)
    unit_kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id"))
    # 0 immediate, 1 urgent, 2 routine (app/dispatch/priority.py).
    risk_rank: Mapped[int] = mapped_column(SmallInteger)
    since: Mapped[datetime]
