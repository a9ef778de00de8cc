"""Slowing password guessing (pure: the clock is passed in).

Failed sign-ins are counted per username and per client address over a sliding window; past the
limit, sign-in is refused until the oldest failure leaves the window, even with the right
password. Counts are per instance: with N instances an attacker gets N times the attempts, still
far too few to guess a password.
"""

import time
from collections import deque
from collections.abc import Callable

MAX_FAILURES_PER_USERNAME = 10
MAX_FAILURES_PER_ADDRESS = 50
WINDOW_SECONDS = 15 * 60
_PRUNE_ABOVE = 10_000  # keys kept before expired ones are swept (a spray of made-up usernames)


class SignInThrottle:
    def __init__(
        self,
        *,
        per_username: int = MAX_FAILURES_PER_USERNAME,
        per_address: int = MAX_FAILURES_PER_ADDRESS,
        window_seconds: float = WINDOW_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limits = {"user": per_username, "address": per_address}
        self.window = window_seconds
        self.clock = clock
        self._failures: dict[tuple[str, str], deque[float]] = {}

    def retry_after(self, username: str, address: str) -> float | None:
        """Seconds until another attempt is allowed, or None if it is allowed now."""
        now = self.clock()
        waits = []
        for key in (("user", username), ("address", address)):
            failures = self._recent(key, now)
            if len(failures) >= self.limits[key[0]]:
                waits.append(failures[0] + self.window - now)
        return max(waits) if waits else None

    def failed(self, username: str, address: str) -> None:
        now = self.clock()
        if len(self._failures) > _PRUNE_ABOVE:
            for key in list(self._failures):
                self._recent(key, now)
        for key in (("user", username), ("address", address)):
            self._failures.setdefault(key, deque()).append(now)

    def succeeded(self, username: str) -> None:
        self._failures.pop(("user", username), None)

    def _recent(self, key: tuple[str, str], now: float) -> deque[float]:
        failures = self._failures.get(key, deque())
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        if not failures:
            self._failures.pop(key, None)
        return failures
