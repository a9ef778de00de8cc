"""When a signed-in session may still be used (pure: `now` is passed in).

A session ends when it is revoked (signed out, account disabled, password reset), when it has not
been used for the idle limit, at its absolute (shift-long) limit, or when its account is disabled
or its password changed after it began. Use renews the idle clock, at most once a minute, so that
a busy client does not write on every request.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

RENEW_EVERY = timedelta(minutes=1)

_REVOKED = {
    "signed_out": "You signed out",
    "disabled": "This account has been disabled",
    "password_reset": "The password was reset",
    "account_reset": "The account was reset",
}


@dataclass(frozen=True, slots=True)
class SessionFacts:
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    revoked_reason: str | None
    user_active: bool
    password_changed_at: datetime | None


def refusal(facts: SessionFacts, *, now: datetime, idle: timedelta) -> str | None:
    """Why this session may no longer be used (a sentence for the person), or None."""
    if facts.revoked_at is not None:
        said = _REVOKED.get(facts.revoked_reason or "", "This session was ended")
        return f"{said}; sign in again."
    if not facts.user_active:
        return "This account is not active; sign in again."
    if facts.password_changed_at is not None and facts.password_changed_at > facts.created_at:
        return "The password was changed; sign in again."
    if now >= facts.expires_at:
        return "The session expired at the end of its shift-long limit; sign in again."
    if now - facts.last_seen_at >= idle:
        minutes = int(idle.total_seconds() // 60)
        return f"The session expired after {minutes} minutes without use; sign in again."
    return None


def renewal_due(last_seen_at: datetime, *, now: datetime) -> bool:
    return now - last_seen_at >= RENEW_EVERY


def next_check_in(facts: SessionFacts, *, now: datetime, idle: timedelta) -> float:
    """Seconds until this session would end on its own if not used again."""
    ends = min(facts.expires_at, facts.last_seen_at + idle)
    return max(0.0, (ends - now).total_seconds())
