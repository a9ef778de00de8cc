from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel

from app.auth.actor import Actor
from app.deps import require_roles
from app.routers import ERROR_RESPONSES

router = APIRouter(prefix="/api/v1/realtime", tags=["live"], responses=ERROR_RESPONSES)


class RealtimeStatus(BaseModel):
    instance: str
    subscribers: int
    last_event_id: int
    listener_connected: bool


@router.get("/status", summary="This instance's live-event state (for operators)")
async def realtime_status(
    request: Request, _: Annotated[Actor, Depends(require_roles("supervisor", "admin"))]
) -> RealtimeStatus:
    state = request.app.state
    return RealtimeStatus(
        instance=state.instance_name,
        subscribers=len(state.hub),
        last_event_id=state.hub.last_seen,
        listener_connected=state.listener.connected,
    )
