"""Password hashing with Argon2id (pwdlib's recommended hasher)."""

import anyio
from pwdlib import PasswordHash

_hasher = PasswordHash.recommended()
# Verifying against this when the user does not exist keeps login timing the same either way.
_DUMMY_HASH = _hasher.hash("not-a-real-password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password: str, password_hash: str | None) -> bool:
    return _hasher.verify(password, password_hash or _DUMMY_HASH) and password_hash is not None


# Argon2 takes ~250 ms of CPU by design. In a worker thread (argon2 releases the GIL) the event
# loop keeps serving sockets meanwhile; at most two at once, so a burst of sign-ins queues here
# instead of taking every core.
_verifying = anyio.CapacityLimiter(2)


async def check_password(password: str, password_hash: str | None) -> bool:
    return await anyio.to_thread.run_sync(
        verify_password, password, password_hash, limiter=_verifying
    )
