"""What makes a password acceptable (pure; no I/O).

At least 12 characters (at most 128), and not guessable: scored with zxcvbn, Dropbox's strength
estimator, which matches against its lists of the most common passwords, English words, names,
keyboard patterns, dates, repeats and sequences, and estimates the guesses an attacker needs.
A score below 3 ("safely unguessable: moderate protection from an offline attack", about 10^8
guesses or more) is refused, as is a password built on the username or on this service's words.
"""

import unicodedata

from zxcvbn import zxcvbn

MIN_LENGTH = 12
MAX_LENGTH = 128
MIN_SCORE = 3
# zxcvbn's own ceiling (its matching is quadratic): longer passwords are scored on this prefix,
# which can only under-estimate the whole.
_SCORED_LENGTH = 72
# Words an attacker would try first against this service.
SERVICE_WORDS = ("street", "triage", "dispatch", "crisis", "police", "nurse", "control", "room")


class WeakPassword(ValueError):
    """The password breaks the policy; the message says why, for the person choosing it."""


def check_password_policy(password: str, *, username: str) -> None:
    """Raise WeakPassword if `password` may not be used for the account `username`."""
    if len(password) < MIN_LENGTH:
        raise WeakPassword(f"the password must be at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise WeakPassword(f"the password must be at most {MAX_LENGTH} characters")
    if any(unicodedata.category(c) == "Cc" for c in password):
        raise WeakPassword("the password must not contain control characters")
    # (Shorter usernames are left to zxcvbn, which also weighs them: "ann" may be in a password.)
    if len(username) >= 4 and username.casefold() in password.casefold():
        raise WeakPassword("the password must not contain the username")
    result = zxcvbn(password[:_SCORED_LENGTH], user_inputs=[username, *SERVICE_WORDS])
    if result["score"] < MIN_SCORE:
        feedback = result["feedback"]
        hint = feedback.get("warning") or " ".join(feedback.get("suggestions") or [])
        reason = f" ({hint.rstrip('.')})" if hint else ""
        raise WeakPassword(
            f"the password is too common or too easy to guess{reason}; "
            "use a longer passphrase of unrelated words"
        )
