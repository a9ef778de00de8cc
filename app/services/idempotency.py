"""`Idempotency-Key`: a retried request returns the first result and creates nothing.

The key row is inserted first, in the request's own transaction. A concurrent retry with the same
key blocks on the unique index until the first commits, then finds the stored result; if the first
rolled back, the retry proceeds as new."""

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import AppError
from app.models import IdempotencyKey

MAX_KEY_LENGTH = 200


@dataclass(frozen=True)
class Replay:
    status_code: int
    body: dict[str, Any]


def request_hash(payload: Any) -> str:
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


async def begin(
    *, session: AsyncSession, user_id: int, scope: str, key: str, payload: Any
) -> Replay | None:
    """Claim `key` for this request. Returns the stored result when it is a retry."""
    if not key or len(key) > MAX_KEY_LENGTH:
        raise AppError(
            400,
            "invalid_idempotency_key",
            f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} characters.",
            [{"field": "Idempotency-Key", "message": "invalid length"}],
        )
    digest = request_hash(payload)
    inserted = await session.scalar(
        insert(IdempotencyKey)
        .values(user_id=user_id, scope=scope, key=key, request_hash=digest)
        .on_conflict_do_nothing()
        .returning(IdempotencyKey.id)
    )
    if inserted is not None:
        return None
    stored = await session.scalar(
        select(IdempotencyKey).where(
            IdempotencyKey.user_id == user_id,
            IdempotencyKey.scope == scope,
            IdempotencyKey.key == key,
        )
    )
    if stored is None or stored.response_body is None or stored.response_status is None:
        # Only possible if the first request's transaction is still open on this same session.
        raise AppError(
            409, "idempotency_key_in_use", "A request with this Idempotency-Key is in progress."
        )
    if stored.request_hash != digest:
        raise AppError(
            409,
            "idempotency_key_reused",
            "This Idempotency-Key was used with a different request body; use a new key.",
        )
    return Replay(stored.response_status, stored.response_body)


async def finish(
    *,
    session: AsyncSession,
    user_id: int,
    scope: str,
    key: str,
    status_code: int,
    body: dict[str, Any],
    resource_id: int | None,
) -> None:
    stored = await session.scalar(
        select(IdempotencyKey).where(
            IdempotencyKey.user_id == user_id,
            IdempotencyKey.scope == scope,
            IdempotencyKey.key == key,
        )
    )
    assert stored is not None, "finish() without begin()"
    stored.response_status = status_code
    stored.response_body = body
    stored.resource_id = resource_id
