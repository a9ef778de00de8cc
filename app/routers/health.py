import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from app.errors import error_body

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="The process is up")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz", summary="The database answers", responses={503: {"description": "Not ready"}}
)
async def readyz(request: Request) -> JSONResponse:
    try:
        async with asyncio.timeout(2):
            async with request.app.state.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
    except Exception:
        return JSONResponse(
            error_body("database_unavailable", "The database does not answer."), status_code=503
        )
    return JSONResponse({"status": "ready"})
