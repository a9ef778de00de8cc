from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Float, ForeignKey, Index, String, Text, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, TimestampMixin

if TYPE_CHECKING:
    from app.models.area import Area
    from app.models.assignment import Assignment
    from app.models.dispatch_wait import DispatchWait
    from app.models.handoff import Handoff
    from app.models.incident_override import IncidentOverride
    from app.models.user import User

INCIDENT_STATUSES = ("open", "dispatched", "on_scene", "closed")
CLOSE_REASONS = (
    "referred",
    "advice_given",
    "duplicate",
    "no_further_action",
    "resolved_on_scene",
    "other",
)


class Incident(TimestampMixin, Base):
    """A call about a person in mental-health crisis, as taken, with the rules' decision.

    `decision` is the rule engine's decision as made at intake and never changes; a human
    override sits beside it in `incident_overrides`, and `effective_outcome` says which applies.
    """

    __tablename__ = "incidents"
    __table_args__ = (
        Index("ix_incidents_area_id_created_at", "area_id", "created_at"),
        Index(
            "ix_incidents_task_due_at",
            "task_due_at",
            postgresql_where=text("task_due_at IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id"))
    source: Mapped[str] = mapped_column(String(30))
    category: Mapped[str] = mapped_column(String(40))
    reported_at: Mapped[datetime]
    location_description: Mapped[str] = mapped_column(String(500))
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    location_kind: Mapped[str] = mapped_column(String(30))
    person: Mapped[dict[str, Any]] = mapped_column(JSONB)
    circumstances: Mapped[str | None] = mapped_column(Text)
    # Who is calling (e.g. the officer on scene): name, role, phone. Shared with responders.
    caller: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default="{}")
    risk: Mapped[dict[str, Any]] = mapped_column(JSONB)
    context: Mapped[dict[str, Any]] = mapped_column(JSONB)
    status: Mapped[str] = mapped_column(String(20), default="open", index=True)
    decision: Mapped[dict[str, Any]] = mapped_column(JSONB)
    effective_outcome: Mapped[str] = mapped_column(String(40))
    # What the call handler tells the caller now: the rules' sentence, or the latest override's.
    caller_advice: Mapped[str] = mapped_column(Text)
    # The call handler's desk owes a hand-off (an outcome that sends no unit of ours) by this
    # time, or the incident is escalated; null when nothing is owed.
    task_due_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    close_reason: Mapped[str | None] = mapped_column(String(30))
    close_note: Mapped[str | None] = mapped_column(Text)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # When its person data was replaced by pseudonyms after the area's retention period.
    pseudonymised_at: Mapped[datetime | None]
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    updated_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))

    area: Mapped["Area"] = relationship(lazy="raise")
    created_by: Mapped["User"] = relationship(foreign_keys=[created_by_id], lazy="raise")
    overrides: Mapped[list["IncidentOverride"]] = relationship(
        lazy="raise", order_by="IncidentOverride.id"
    )
    assignments: Mapped[list["Assignment"]] = relationship(lazy="raise", order_by="Assignment.id")
    closed_by: Mapped["User | None"] = relationship(foreign_keys=[closed_by_id], lazy="raise")
    handoffs: Mapped[list["Handoff"]] = relationship(lazy="raise", order_by="Handoff.id")
    waits: Mapped[list["DispatchWait"]] = relationship(lazy="raise")
