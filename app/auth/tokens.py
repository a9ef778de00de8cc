"""Signed bearer tokens (JWT, HS256) naming a user and their server-side session.

The token only says who and which session; whether that session is still open (not signed out,
revoked, idle or past its shift-long limit) and the user's role, unit and area are read from the
database on every request, so revocation and changes take effect at once."""

from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

import jwt

ALGORITHM = "HS256"


class InvalidToken(Exception):
    """The token is malformed, forged, expired, or from before server-side sessions."""


@dataclass(frozen=True, slots=True)
class TokenClaims:
    user_id: int
    session_id: UUID
    expires_at: datetime


def issue_token(*, user_id: int, session_id: UUID, expires_at: datetime, secret: str) -> str:
    """A token for `session_id`, expiring with the session's absolute limit."""
    claims = {
        "sub": str(user_id),
        "sid": str(session_id),
        "iat": datetime.now(UTC),
        "exp": expires_at,
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def read_token(token: str, *, secret: str, verify_expiry: bool = True) -> TokenClaims:
    """The claims of a token signed with `secret`. `verify_expiry=False` only for signing out,
    which must work with a token that has just expired."""
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            options={"require": ["exp", "sub", "sid"], "verify_exp": verify_expiry},
        )
        return TokenClaims(
            user_id=int(claims["sub"]),
            session_id=UUID(str(claims["sid"])),
            expires_at=datetime.fromtimestamp(claims["exp"], UTC),
        )
    except jwt.ExpiredSignatureError as exc:
        raise InvalidToken("token expired") from exc
    except jwt.MissingRequiredClaimError as exc:
        raise InvalidToken("token from before sessions") from exc
    except (jwt.PyJWTError, ValueError, TypeError) as exc:
        raise InvalidToken("invalid token") from exc
