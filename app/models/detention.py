from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, TimestampMixin

if TYPE_CHECKING:
    from app.models.clock import Clock
    from app.models.place_of_safety import PlaceOfSafety


class Detention(TimestampMixin, Base):
    """A section 135/136 detention: what the Home Office return and the partnership need, as
    recorded, with who recorded it. Times are as they happened (they may be entered late)."""

    __tablename__ = "detentions"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), unique=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id"), index=True)
    unit_callsign: Mapped[str | None] = mapped_column(String(20))
    power: Mapped[str] = mapped_column(String(10))
    detained_at: Mapped[datetime] = mapped_column(index=True)
    # S9: where the person was when detained (location kinds of the incident); s136 never in a
    # private dwelling. s135: the warrant that allowed entry.
    found_in: Mapped[str | None] = mapped_column(String(30))
    warrant_issued_by: Mapped[str | None] = mapped_column(String(200))
    warrant_issued_at: Mapped[datetime | None]
    # S1: consultation before detention, or why it was not practicable.
    consulted_who: Mapped[str | None] = mapped_column(String(20))
    consulted_at: Mapped[datetime | None]
    not_consulted_reason: Mapped[str | None] = mapped_column(Text)
    place_of_safety_id: Mapped[int | None] = mapped_column(ForeignKey("places_of_safety.id"))
    # The place's type as it was when chosen: the return reports it even if the place changes.
    place_type: Mapped[str] = mapped_column(String(40))
    # S4: a police station for an adult, only with an inspector's authority and a reason.
    police_station_reason: Mapped[str | None] = mapped_column(Text)
    authorised_by: Mapped[str | None] = mapped_column(String(200))
    review_required: Mapped[bool] = mapped_column(default=False)
    # S6: conveyance.
    vehicle: Mapped[str] = mapped_column(String(30))
    ambulance_requested: Mapped[bool | None]
    police_vehicle_reason: Mapped[str | None] = mapped_column(Text)
    person_age: Mapped[int | None]
    # Age unknown at a police station: why the officer believes the person is 18 or over (S3).
    believed_adult_reason: Mapped[str | None] = mapped_column(Text)
    # A person under 18 at a place that does not take under-18s: why (flagged for review).
    under_18_place_reason: Mapped[str | None] = mapped_column(Text)
    # Marks for supervisors and the review (e.g. under_18_unsuitable_place, possible_duplicate).
    flags: Mapped[list[str]] = mapped_column(ARRAY(String(40)), default=list, server_default="{}")
    person_gender: Mapped[str] = mapped_column(String(20))
    person_ethnicity: Mapped[str] = mapped_column(String(20))
    arrived_at: Mapped[datetime | None]
    handover_at: Mapped[datetime | None]
    received_by: Mapped[str | None] = mapped_column(String(200))
    handover_agreed_by: Mapped[str | None] = mapped_column(String(200))
    handover_agreed_reason: Mapped[str | None] = mapped_column(Text)
    assessment_at: Mapped[datetime | None]
    # S2: one extension of up to 12 hours by the responsible doctor.
    extension_hours: Mapped[int] = mapped_column(default=0)
    extension_at: Mapped[datetime | None]
    extension_by: Mapped[str | None] = mapped_column(String(200))
    extension_reason: Mapped[str | None] = mapped_column(Text)
    extension_superintendent: Mapped[str | None] = mapped_column(String(200))
    outcome: Mapped[str | None] = mapped_column(String(40))
    ended_at: Mapped[datetime | None]
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    updated_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))

    place: Mapped["PlaceOfSafety | None"] = relationship(lazy="raise")
    clocks: Mapped[list["Clock"]] = relationship(lazy="raise", order_by="Clock.id")
