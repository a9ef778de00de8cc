"""The audit trail: every create, change and read of person data, attributable."""

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.actor import Actor
from app.models import AuditEntry


def record(
    *,
    session: AsyncSession,
    actor: Actor,
    action: str,
    subject_type: str,
    subject_id: object | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    session.add(
        AuditEntry(
            actor_id=actor.user_id,
            actor_username=actor.username,
            actor_role=actor.role,
            action=action,
            subject_type=subject_type,
            subject_id=None if subject_id is None else str(subject_id),
            request_id=actor.request_id,
            client_ip=actor.client_ip,
            detail=detail or {},
        )
    )
