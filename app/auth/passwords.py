"""Password hashing with Argon2id (pwdlib's recommended hasher)."""

from pwdlib import PasswordHash

_hasher = PasswordHash.recommended()
# Verifying against this when the user does not exist keeps login timing the same either way.
_DUMMY_HASH = _hasher.hash("not-a-real-password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password: str, password_hash: str | None) -> bool:
    return _hasher.verify(password, password_hash or _DUMMY_HASH) and password_hash is not None
