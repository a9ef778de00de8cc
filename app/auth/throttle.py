"""Slowing password guessing with growing delays (pure: the clock is passed in).

Failed sign-ins are counted per username and per client address. Past a few free failures each
further one makes the next attempt wait twice as long as the last (1 s, 2 s, 4 s … up to a cap),
and attempts during the wait are refused without checking the password. The real user is never
locked out for good: the wait never exceeds the cap, a success clears the username's count, and
a count is forgotten after a quiet period.

Each attempt is counted as failed *before* the password is checked and taken back on success, so
a burst of parallel guesses cannot all slip in before the first failure is recorded.

Counts are per instance: with N instances an attacker gets N times the attempts, still far too few
against the password policy (app/auth/password_policy.py). Usernames reach here only once they
passed the length check (at most 80 characters), and the number of keys is bounded.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass

FREE_FAILURES_PER_USERNAME = 3  # typos cost nothing
FREE_FAILURES_PER_ADDRESS = 10  # a control room shares one address
FIRST_DELAY_SECONDS = 1.0
MAX_DELAY_SECONDS = 60.0
FORGET_AFTER_SECONDS = 15 * 60
MAX_KEYS = 50_000


@dataclass(slots=True)
class _Failures:
    count: int
    last_at: float


def delay_after(failures: int, *, free: int, first: float, cap: float) -> float:
    """How long the next attempt must wait after `failures` consecutive failures."""
    if failures < free:
        return 0.0
    return min(cap, first * 2 ** min(failures - free, 30))


class SignInThrottle:
    def __init__(
        self,
        *,
        free_per_username: int = FREE_FAILURES_PER_USERNAME,
        free_per_address: int = FREE_FAILURES_PER_ADDRESS,
        first_delay: float = FIRST_DELAY_SECONDS,
        max_delay: float = MAX_DELAY_SECONDS,
        forget_after: float = FORGET_AFTER_SECONDS,
        max_keys: int = MAX_KEYS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.free = {"user": free_per_username, "address": free_per_address}
        self.first_delay = first_delay
        self.max_delay = max_delay
        self.forget_after = forget_after
        self.max_keys = max_keys
        self.clock = clock
        # Oldest failure first (re-inserted on each failure), so eviction drops the stalest.
        self._failures: dict[tuple[str, str], _Failures] = {}

    def __len__(self) -> int:
        return len(self._failures)

    def retry_after(self, username: str, address: str) -> float | None:
        """Seconds until another attempt is allowed, or None if it is allowed now."""
        now = self.clock()
        waits = []
        for key in self._keys(username, address):
            failures = self._current(key, now)
            if failures is None:
                continue
            delay = delay_after(
                failures.count, free=self.free[key[0]], first=self.first_delay, cap=self.max_delay
            )
            if now < failures.last_at + delay:
                waits.append(failures.last_at + delay - now)
        return max(waits) if waits else None

    def failed(self, username: str, address: str) -> None:
        now = self.clock()
        for key in self._keys(username, address):
            failures = self._current(key, now) or _Failures(0, now)
            self._failures.pop(key, None)
            self._failures[key] = _Failures(failures.count + 1, now)
        self._bound()

    def succeeded(self, username: str, address: str) -> None:
        """The password was right: forget the username's failures and take back the failure
        counted for this attempt on the address (not the address's others: an attacker with an
        account of their own must not clear their address by signing in between guesses)."""
        self._failures.pop(("user", username), None)
        failures = self._failures.get(("address", address))
        if failures is not None:
            failures.count -= 1
            if failures.count <= 0:
                del self._failures[("address", address)]

    @staticmethod
    def _keys(username: str, address: str) -> tuple[tuple[str, str], tuple[str, str]]:
        return ("user", username), ("address", address)

    def _current(self, key: tuple[str, str], now: float) -> _Failures | None:
        failures = self._failures.get(key)
        if failures is not None and now - failures.last_at >= self.forget_after:
            del self._failures[key]
            return None
        return failures

    def _bound(self) -> None:
        """Keep at most `max_keys`, dropping the stalest (forgotten ones are the stalest)."""
        while len(self._failures) > self.max_keys:
            del self._failures[next(iter(self._failures))]
