"""Waking open websockets when their session or account changes (on any instance).

The database announces every change to who someone is (role, area, unit, active, password) and
every revoked session with `NOTIFY triage_auth, 'user:<id>' | 'session:<uuid>'` (migration 0006's
triggers). Each instance's listener hands those to its AuthWatch, which wakes the sockets of that
user or session; each socket then re-reads its session and closes (4401) if it may no longer stay
open. A socket also re-checks on its own every `WS_RECHECK_SECONDS`, and every socket re-checks
whenever the listener reconnects, since notifications sent while it was away are lost.
"""

import asyncio
import logging
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from uuid import UUID

log = logging.getLogger(__name__)

CHANNEL = "triage_auth"


class AuthWatch:
    def __init__(self) -> None:
        self._by_user: dict[int, set[asyncio.Event]] = defaultdict(set)
        self._by_session: dict[UUID, set[asyncio.Event]] = defaultdict(set)

    def __len__(self) -> int:
        return sum(len(events) for events in self._by_session.values())

    @contextmanager
    def watch(self, *, user_id: int, session_id: UUID) -> Iterator[asyncio.Event]:
        """An event set whenever this user or session may have changed."""
        changed = asyncio.Event()
        self._by_user[user_id].add(changed)
        self._by_session[session_id].add(changed)
        try:
            yield changed
        finally:
            self._forget(self._by_user, user_id, changed)
            self._forget(self._by_session, session_id, changed)

    def announce(self, payload: str) -> None:
        """A `triage_auth` notification: 'user:<id>' or 'session:<uuid>'."""
        kind, _, ident = payload.partition(":")
        try:
            if kind == "user":
                events = self._by_user.get(int(ident), set())
            elif kind == "session":
                events = self._by_session.get(UUID(ident), set())
            else:
                raise ValueError(kind)
        except ValueError:
            log.warning("ignoring an unexpected %s notification", CHANNEL)
            return
        for changed in events:
            changed.set()

    def wake_all(self) -> None:
        for events in self._by_session.values():
            for changed in events:
                changed.set()

    @staticmethod
    def _forget(index: dict, key: object, changed: asyncio.Event) -> None:
        events = index.get(key)
        if events is not None:
            events.discard(changed)
            if not events:
                del index[key]
