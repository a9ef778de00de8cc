"""The audit trail: every create, change and read of person data, every change of state, and every
attempt refused on person data, attributable (docs/security.md, "Audit").

A row about one incident has `subject_type="incident"` and its id; a row about several (a list
read, summaries delivered over a websocket) has no `subject_id` and names them in
`detail.incident_ids` (indexed). Details say what was done, never free text or person data: the
audit is append-only, so nothing written here could be pseudonymised later.

Refused attempts are written by `denied()` on a connection of their own and committed at once,
so the request's rollback (which undoes everything else it did) does not erase them.
"""

import logging
from typing import Any

from sqlalchemy import Select, func, literal_column, or_, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine

from app.auth.actor import Actor
from app.errors import AppError, NotFound
from app.models import AuditEntry, Incident
from app.schemas.audit import AuditRowOut

log = logging.getLogger(__name__)

SYSTEM = "system"  # actor and role of what the service does by itself (timers, retention)
# Written as an expression the GIN index of migration 0007 matches.
_INCIDENT_IDS = literal_column("audit_entries.detail -> 'incident_ids'", JSONB)


def _session_id(actor: Actor) -> str | None:
    # Server-side sessions (issue 9) give the actor a session id; before them it has none.
    value = getattr(actor, "session_id", None)
    return None if value is None else str(value)


def entry(
    *,
    actor: Actor | None,
    action: str,
    subject_type: str,
    subject_id: object | None = None,
    detail: dict[str, Any] | None = None,
    outcome: str = "allowed",
) -> AuditEntry:
    """One row; `actor=None` is the service itself."""
    return AuditEntry(
        actor_id=actor.user_id if actor else None,
        actor_username=actor.username if actor else SYSTEM,
        actor_role=actor.role if actor else SYSTEM,
        action=action,
        subject_type=subject_type,
        subject_id=None if subject_id is None else str(subject_id),
        request_id=actor.request_id if actor else None,
        client_ip=actor.client_ip if actor else None,
        session_id=_session_id(actor) if actor else None,
        outcome=outcome,
        detail=detail or {},
    )


def record(
    *,
    session: AsyncSession,
    actor: Actor | None,
    action: str,
    subject_type: str,
    subject_id: object | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """An allowed action, written with the request's own transaction (gone if it fails)."""
    session.add(
        entry(
            actor=actor,
            action=action,
            subject_type=subject_type,
            subject_id=subject_id,
            detail=detail,
        )
    )


# --- refused attempts: their own transaction --------------------------------------------------

_side_engines: dict[str, AsyncEngine] = {}


def _side_engine(session: AsyncSession) -> AsyncEngine:
    """A small pool of its own on the same database as the request's session. Its own pool, not
    the request's: a request holding a connection while it waits for another from the same pool
    could deadlock the pool under a burst of refusals; this pool's connections are only ever
    held for one INSERT."""
    bind = session.bind
    engine: AsyncEngine = bind if isinstance(bind, AsyncEngine) else bind.engine
    key = engine.url.render_as_string(hide_password=False)
    side = _side_engines.get(key)
    if side is None:
        side = create_async_engine(
            engine.url,
            pool_size=1,
            max_overflow=1,
            pool_timeout=10,
            pool_pre_ping=True,
            connect_args={
                "server_settings": {"application_name": "street-triage-audit", "timezone": "UTC"}
            },
        )
        _side_engines[key] = side
    return side


async def dispose_side_engines() -> None:
    while _side_engines:
        _, engine = _side_engines.popitem()
        await engine.dispose()


async def denied(
    error: AppError,
    *,
    session: AsyncSession,
    actor: Actor,
    action: str,
    subject_type: str = "incident",
    subject_id: object | None = None,
    detail: dict[str, Any] | None = None,
) -> AppError:
    """Record an attempt refused on person data, committed at once on a connection of its own;
    returns `error` for the caller to raise. If the audit cannot be written (the database is
    away), the refusal still stands and the failure is logged (without the subject)."""
    row = entry(
        actor=actor,
        action=action,
        subject_type=subject_type,
        subject_id=subject_id,
        detail={**(detail or {}), "status": error.status_code, "code": error.code},
        outcome="denied",
    )
    try:
        async with AsyncSession(_side_engine(session)) as side, side.begin():
            side.add(row)
    except Exception as exc:  # the refusal matters more than its record
        log.warning("could not record a refused %s (%s)", action, type(exc).__name__)
    return error


# --- reading the trail ------------------------------------------------------------------------


def about_incident(incident_id: int) -> Select[tuple[AuditEntry]]:
    """Every row about the incident: its own, and those naming it among several."""
    return (
        select(AuditEntry)
        .where(
            AuditEntry.subject_type == "incident",
            or_(
                AuditEntry.subject_id == str(incident_id),
                _INCIDENT_IDS.op("@>")(func.jsonb_build_array(incident_id)),
            ),
        )
        # In the order written (ids), which is also how a client pages with `after`.
        .order_by(AuditEntry.id)
    )


async def trail(
    incident_id: int, *, session: AsyncSession, actor: Actor, after: int | None, limit: int
) -> list[AuditRowOut]:
    """Who did what to this incident's record, oldest first (a supervisor of its area)."""
    area_id = await session.scalar(select(Incident.area_id).where(Incident.id == incident_id))
    if area_id is None or area_id != actor.area_id:
        raise await denied(
            NotFound(f"Incident {incident_id}"),
            session=session,
            actor=actor,
            action="audit.read",
            subject_id=incident_id,
        )
    query = about_incident(incident_id)
    if after is not None:
        query = query.where(AuditEntry.id > after)
    rows = list(await session.scalars(query.limit(limit)))
    record(
        session=session,
        actor=actor,
        action="audit.read",
        subject_type="incident",
        subject_id=incident_id,
        detail={"rows": len(rows)},
    )
    subject = f"incident:{incident_id}"
    return [
        AuditRowOut(
            id=row.id,
            at=row.at,
            actor=row.actor_username,
            role=row.actor_role,
            action=row.action,
            subject=subject,
            request_id=row.request_id,
            outcome=row.outcome,
        )
        for row in rows
    ]
