"""The ASGI application: engine and background work live in the lifespan."""

import logging
import os
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from app import log_policy
from app.api_docs import install_api_docs
from app.auth.throttle import SignInThrottle
from app.config import Settings, get_settings
from app.database import (
    create_engine,
    create_sessionmaker,
    resolve_database_url,
    resolve_secret_key,
)
from app.errors import install_error_handlers
from app.input_guard import ControlCharacterGuard
from app.middleware import BodySizeLimitMiddleware, RequestIdMiddleware
from app.realtime import outbox  # noqa: F401  (registers the commit hook that writes events)
from app.realtime.hub import Hub
from app.realtime.listener import EventListener
from app.realtime.presence import Presence
from app.routers import (
    areas,
    assignments,
    audit,
    auth,
    clocks,
    detentions,
    escalations,
    handovers,
    health,
    incidents,
    pages,
    places_of_safety,
    realtime,
    reports,
    triage,
    units,
    ws,
)
from app.security_headers import SecurityHeadersMiddleware
from app.services import user_sessions
from app.workers import Workers

log = logging.getLogger(__name__)

DESCRIPTION = """
Dispatch for mental-health crisis calls under **Right Care, Right Person**: intake, routing
with its reasons rule by rule, live dispatch to street triage cars and the nurse desk, s136
detentions and the one-hour handover. Errors always have the shape
`{"error": {"code", "message", "details": [{"field", "message"}]}}`.
"""


def create_app(settings: Settings | None = None, *, database_url: str | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Logging is configured by now (uvicorn's handlers included): no handler may print an
        # exception's message, which can hold person data.
        log_policy.install()
        url = database_url or resolve_database_url(settings)
        state = app.state
        state.settings = settings
        state.instance_name = settings.instance_name or f"{socket.gethostname()}:{os.getpid()}"
        state.engine = create_engine(url, pool_size=settings.db_pool_size)
        state.sessionmaker = create_sessionmaker(state.engine)
        state.secret_key = resolve_secret_key(settings)
        state.hub = Hub(settings.ws_queue_size)
        state.listener = EventListener(url, state.hub, poll_interval=settings.event_poll_seconds)
        state.workers = Workers(
            state.sessionmaker,
            interval=settings.worker_interval_seconds,
            event_retention=timedelta(hours=settings.event_retention_hours),
        )
        state.workers.add(
            "session-purge", user_sessions.purge_job, user_sessions.PURGE_EVERY_SECONDS
        )
        state.presence = Presence(
            state.sessionmaker,
            state.instance_name,
            interval=settings.presence_heartbeat_seconds,
        )
        await state.listener.start()
        await state.workers.start()
        await state.presence.start()
        try:
            yield
        finally:
            await state.presence.stop()
            await state.workers.stop()
            await state.listener.stop()
            await state.engine.dispose()

    app = FastAPI(
        title="Street triage dispatch",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        # Served by app/api_docs.py: local assets, signed-in only in production.
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
    )
    install_error_handlers(app)
    # Outermost last: the body is capped before the guard reads it; every answer gets headers.
    app.add_middleware(ControlCharacterGuard)
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(RequestIdMiddleware)
    app.state.settings = settings
    app.state.sign_in_throttle = SignInThrottle()
    routers = (
        health,
        auth,
        areas,
        incidents,
        triage,
        units,
        assignments,
        places_of_safety,
        detentions,
        handovers,
        clocks,
        escalations,
        audit,
        reports,
        realtime,
        ws,
        pages,
    )
    for module in routers:
        app.include_router(module.router)
    install_api_docs(app, signed_in_only=settings.environment == "prod")
    app.mount("/static", StaticFiles(directory=pages.STATIC_DIR), name="static")
    return app
