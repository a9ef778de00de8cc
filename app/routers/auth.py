from datetime import timedelta
from math import ceil
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel
from sqlalchemy import select

from app.auth.passwords import check_password
from app.auth.throttle import SignInThrottle
from app.auth.tokens import issue_token
from app.config import get_settings
from app.deps import Session
from app.errors import AppError
from app.models import User
from app.schemas.common import ErrorResponse

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"
    role: str
    expires_in: int
    unit: str | None = None


@router.post(
    "/token",
    summary="Sign in (OAuth2 password flow)",
    responses={
        401: {"model": ErrorResponse, "description": "Wrong username or password"},
        429: {"model": ErrorResponse, "description": "Too many failed sign-ins (Retry-After)"},
    },
)
async def token(
    request: Request, session: Session, form: Annotated[OAuth2PasswordRequestForm, Depends()]
) -> Token:
    throttle: SignInThrottle = request.app.state.sign_in_throttle
    address = request.client.host if request.client else "unknown"
    wait = throttle.retry_after(form.username, address)
    if wait is not None:
        raise AppError(
            429,
            "too_many_attempts",
            f"Too many failed sign-ins; try again in {ceil(wait / 60)} minute(s).",
            headers={"Retry-After": str(ceil(wait))},
        )
    user = await session.scalar(select(User).where(User.username == form.username))
    if not await check_password(form.password, user.password_hash if user else None) or not (
        user and user.active
    ):
        throttle.failed(form.username, address)
        raise AppError(401, "invalid_credentials", "Wrong username or password.")
    throttle.succeeded(form.username)
    ttl = timedelta(minutes=get_settings().token_ttl_minutes)
    access_token = issue_token(
        user_id=user.id, role=user.role, secret=request.app.state.secret_key, ttl=ttl
    )
    return Token(
        access_token=access_token,
        role=user.role,
        expires_in=int(ttl.total_seconds()),
        unit=user.unit_callsign,
    )
