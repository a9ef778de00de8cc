"""Role checks for routes that touch person data: a refusal is audited as a denied attempt.

The same check as `deps.require_roles`, and the same 403; the attempt is written on a connection
of its own (`audit.denied`), so the request's rollback does not erase it, naming the incident
the route is about when its path names one.
"""

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request

from app.auth.actor import Actor
from app.deps import Session, get_actor, require_roles
from app.errors import AppError
from app.services import audit

_MAX_ID = 2**31 - 1


def _incident_of(request: Request) -> int | None:
    """The incident the path names, if it names one that could exist."""
    raw = str(request.path_params.get("incident_id", ""))
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 10):
        return None
    return int(raw) if int(raw) <= _MAX_ID else None


def person_data(*roles: str, action: str) -> Callable[..., Awaitable[Actor]]:
    """Dependency: the actor, if their role is one of `roles`; else 403, audited as `action`."""
    check = require_roles(*roles)

    async def dependency(
        request: Request, session: Session, actor: Annotated[Actor, Depends(get_actor)]
    ) -> Actor:
        try:
            return await check(actor)
        except AppError as error:
            raise await audit.denied(
                error,
                session=session,
                actor=actor,
                action=action,
                subject_id=_incident_of(request),
            ) from None

    return dependency
