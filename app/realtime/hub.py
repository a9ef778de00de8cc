"""In-process fan-out from the listener to this instance's websocket subscribers.

Each subscriber has a bounded queue. Publishing never waits: a subscriber whose queue is full is
marked overflowed and disconnected by its own stream (it resumes later with `after`), so one
slow tablet cannot slow anyone else.
"""

import asyncio
from collections import defaultdict
from collections.abc import Iterable
from typing import Final

from app.realtime.audience import Envelope, Viewer, can_see, sees_restricted
from app.realtime.delivery_audit import deliveries

OVERFLOW: Final = None  # queued once to wake a subscriber that fell too far behind


class Subscription:
    def __init__(self, viewer: Viewer, start_after: int, queue_size: int) -> None:
        self.viewer = viewer
        # Events with a higher id than this reach the queue; lower ones come from replay.
        self.start_after = start_after
        self.queue: asyncio.Queue[tuple[int, str] | None] = asyncio.Queue(queue_size)
        self.overflowed = False

    def offer(self, envelope: Envelope) -> None:
        if self.overflowed:
            return
        full = sees_restricted(self.viewer, envelope.unit_callsign)
        try:
            self.queue.put_nowait((envelope.id, envelope.full if full else envelope.public))
            if full and envelope.summary_of is not None:
                deliveries.note(self.viewer, envelope.summary_of)  # audited in batches
        except asyncio.QueueFull:
            self.overflowed = True
            while not self.queue.empty():
                self.queue.get_nowait()
            self.queue.put_nowait(OVERFLOW)


class Hub:
    def __init__(self, queue_size: int = 1000) -> None:
        self.queue_size = queue_size
        self.last_seen = 0
        self._supervisors: dict[int, set[Subscription]] = defaultdict(set)
        self._by_unit: dict[str, set[Subscription]] = defaultdict(set)
        self._by_role: dict[tuple[int, str], set[Subscription]] = defaultdict(set)

    def __len__(self) -> int:
        return len(self._all())

    def _all(self) -> set[Subscription]:
        subs: set[Subscription] = set()
        for group in (*self._supervisors.values(), *self._by_role.values()):
            subs |= group
        return subs

    def subscribe(self, viewer: Viewer) -> Subscription:
        subscription = Subscription(viewer, self.last_seen, self.queue_size)
        if viewer.role == "supervisor":
            self._supervisors[viewer.area_id].add(subscription)
        else:
            self._by_role[(viewer.area_id, viewer.role)].add(subscription)
            if viewer.unit_callsign:
                self._by_unit[viewer.unit_callsign].add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        viewer = subscription.viewer
        self._supervisors[viewer.area_id].discard(subscription)
        self._by_role[(viewer.area_id, viewer.role)].discard(subscription)
        if viewer.unit_callsign:
            self._by_unit[viewer.unit_callsign].discard(subscription)

    def publish(self, envelopes: Iterable[Envelope]) -> None:
        for envelope in envelopes:
            if envelope.id <= self.last_seen:
                continue
            self.last_seen = envelope.id
            targets = set(self._supervisors.get(envelope.area_id, ()))
            if envelope.unit_callsign:
                targets |= self._by_unit.get(envelope.unit_callsign, set())
            for role in envelope.audience:
                targets |= self._by_role.get((envelope.area_id, role), set())
            for subscription in targets:
                v = subscription.viewer
                if can_see(v, envelope.area_id, envelope.unit_callsign, envelope.audience):
                    subscription.offer(envelope)
