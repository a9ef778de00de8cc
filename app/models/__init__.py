"""ORM tables, one file each, on one declarative base."""

from app.models.area import Area
from app.models.assignment import Assignment
from app.models.audit_entry import AuditEntry
from app.models.base import Base
from app.models.clock import Clock
from app.models.detention import Detention
from app.models.detention_transfer import DetentionTransfer
from app.models.dispatch_wait import DispatchWait
from app.models.escalation import Escalation
from app.models.event import Event, EventRetention
from app.models.handoff import Handoff
from app.models.idempotency_key import IdempotencyKey
from app.models.incident import Incident
from app.models.incident_override import IncidentOverride
from app.models.place_of_safety import PlaceOfSafety
from app.models.unit import Unit
from app.models.unit_presence import UnitPresence
from app.models.user import User
from app.models.user_session import UserSession
from app.models.ws_ticket import WsTicket

__all__ = [
    "Area",
    "Assignment",
    "AuditEntry",
    "Base",
    "Clock",
    "Detention",
    "DetentionTransfer",
    "DispatchWait",
    "Escalation",
    "Event",
    "EventRetention",
    "Handoff",
    "IdempotencyKey",
    "Incident",
    "IncidentOverride",
    "PlaceOfSafety",
    "Unit",
    "UnitPresence",
    "User",
    "UserSession",
    "WsTicket",
]
