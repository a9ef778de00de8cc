"""The need-to-know summaries sent over websockets, audited in batches.

Each time an event carrying an incident's summary is queued to a subscriber (live) or sent to it
(replay), the instance notes which account received which incident; a worker job writes what was
noted every second, one `incident.summary_delivered` row per account (and unit) with the incident
ids in `detail.incident_ids` (so `GET /api/v1/audit?subject=incident:N` finds it). A busy
supervisor's dashboard thus costs at most one row a second, however many events it receives.

A summary queued to a socket that then drops before sending it is still recorded: the trail says
who was sent, or was about to be sent, the record, and errs on the side of saying too much.
"""

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import AuditEntry, User
from app.realtime.audience import Viewer

ACTION = "incident.summary_delivered"


@dataclass
class _Pending:
    incident_ids: set[int] = field(default_factory=set)
    events: int = 0


class DeliveryLog:
    """What this instance sent since the last flush, by viewer (account, role, area, unit)."""

    def __init__(self) -> None:
        self._pending: dict[Viewer, _Pending] = {}

    def note(self, viewer: Viewer, incident_id: int) -> None:
        pending = self._pending.setdefault(viewer, _Pending())
        pending.incident_ids.add(incident_id)
        pending.events += 1

    def drain(self) -> dict[Viewer, _Pending]:
        drained, self._pending = self._pending, {}
        return drained

    def __len__(self) -> int:
        return len(self._pending)


# One per process, as a process is one instance (its hub and its sockets).
deliveries = DeliveryLog()


async def flush(session: AsyncSession, log: DeliveryLog = deliveries) -> int:
    """Worker job: write one audit row per viewer for what was delivered since the last run."""
    drained = log.drain()
    if not drained:
        return 0
    names = dict(
        (
            await session.execute(
                select(User.id, User.username).where(User.id.in_({v.user_id for v in drained}))
            )
        ).all()
    )
    for viewer, pending in drained.items():
        ids = sorted(pending.incident_ids)
        session.add(
            AuditEntry(
                actor_id=viewer.user_id,
                actor_username=names.get(viewer.user_id, f"user {viewer.user_id}"),
                actor_role=viewer.role,
                action=ACTION,
                subject_type="incident",
                subject_id=str(ids[0]) if len(ids) == 1 else None,
                detail={
                    "incident_ids": ids,
                    "events": pending.events,
                    "unit": viewer.unit_callsign,
                },
            )
        )
    await session.flush()
    return len(drained)
