"""Events are written in the transaction of the change they describe, at commit.

Services call `emit(session, ...)`; the events wait in the session until it commits. Just before
the commit they are inserted under a transaction-level advisory lock that is held until the
commit completes, so event ids become visible strictly in id order: a reader polling
`id > cursor` can never miss an event that commits late (a plain sequence can: ids are taken
before commit, and commits finish in any order). A NOTIFY in the same transaction (sent with the
lock) rings the doorbell for every instance once the commit is visible.
"""

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event as orm_event
from sqlalchemy import insert, text
from sqlalchemy.orm import Session

from app.models.event import Event

EVENTS_LOCK_KEY = 7_136_002
CHANNEL = "triage_events"
_PENDING = "pending_events"
_LOCK_AND_NOTIFY = text("SELECT pg_advisory_xact_lock(:key), pg_notify(:channel, '')")


@dataclass(frozen=True)
class PendingEvent:
    type: str
    area_id: int
    data: dict[str, Any]
    incident_id: int | None = None
    unit_callsign: str | None = None
    audience: list[str] = field(default_factory=list)
    restricted: dict[str, Any] | None = None


def emit(session: Any, event: PendingEvent) -> None:
    """Queue an event on this session (AsyncSession or Session); it is written at commit."""
    sync_session: Session = getattr(session, "sync_session", session)
    if not sync_session.in_transaction():
        # An event describes a change; with no transaction there is no change to describe, and
        # a later rollback could not discard it.
        raise RuntimeError("emit() called outside a transaction")
    sync_session.info.setdefault(_PENDING, []).append(event)


def pending(session: Any) -> list[PendingEvent]:
    return list(getattr(session, "sync_session", session).info.get(_PENDING, []))


@orm_event.listens_for(Session, "before_commit")
def _write_pending_events(session: Session) -> None:
    events: list[PendingEvent] = session.info.pop(_PENDING, [])
    if not events:
        return
    # The lock and the doorbell in one round trip: a NOTIFY is only delivered at commit anyway.
    session.execute(_LOCK_AND_NOTIFY, {"key": EVENTS_LOCK_KEY, "channel": CHANNEL})
    # Rows inserted in emit order, so ids are drawn in that order, after the lock is held. A Core
    # insert of the table with the rows as parameters compiles once and stays cached.
    session.execute(insert(Event.__table__), [dict(vars(e)) for e in events])


@orm_event.listens_for(Session, "after_soft_rollback")
def _drop_pending_events(session: Session, _previous_transaction: Any) -> None:
    session.info.pop(_PENDING, None)
