"""Signed bearer tokens (JWT, HS256) carrying the user id; role and unit are re-read from the
database on every request so that a disabled account or a changed role takes effect at once."""

from datetime import UTC, datetime, timedelta

import jwt

ALGORITHM = "HS256"


class InvalidToken(Exception):
    """The token is malformed, forged or expired."""


def issue_token(*, user_id: int, role: str, secret: str, ttl: timedelta) -> str:
    now = datetime.now(UTC)
    claims = {"sub": str(user_id), "role": role, "iat": now, "exp": now + ttl}
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def read_token(token: str, *, secret: str) -> int:
    """Return the user id the token was issued to."""
    try:
        claims = jwt.decode(
            token, secret, algorithms=[ALGORITHM], options={"require": ["exp", "sub"]}
        )
        return int(claims["sub"])
    except jwt.ExpiredSignatureError as exc:
        raise InvalidToken("token expired") from exc
    except (jwt.PyJWTError, ValueError) as exc:
        raise InvalidToken("invalid token") from exc


def expires_at(token: str, *, secret: str) -> datetime:
    """When a valid token expires (read_token has already checked it)."""
    claims = jwt.decode(token, secret, algorithms=[ALGORITHM], options={"verify_exp": False})
    return datetime.fromtimestamp(claims["exp"], UTC)
