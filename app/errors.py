"""One error shape for every 4xx/5xx: {"error": {"code", "message", "details"}}."""

import logging
import re
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.log_policy import describe_exception, safe_traceback
from app.security_headers import response_headers

log = logging.getLogger(__name__)


class AppError(Exception):
    """An error meant for the client; raise it from services and routers."""

    def __init__(
        self,
        status_code: int,
        code: str,
        message: str,
        details: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.code = code
        self.message = message
        self.details = details or []
        self.headers = headers


class NotFound(AppError):
    def __init__(self, what: str) -> None:
        super().__init__(404, "not_found", f"{what} was not found.")


class Conflict(AppError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(409, code, message)


class Unprocessable(AppError):
    """A request that is well formed but breaks a rule (422), naming the field."""

    def __init__(self, code: str, message: str, field: str | None = None) -> None:
        details = [{"field": field, "message": message}] if field else []
        super().__init__(422, code, message, details)


def error_body(code: str, message: str, details: list[dict[str, Any]] | None = None) -> dict:
    return {"error": {"code": code, "message": message, "details": details or []}}


# Pydantic adds the member type to the location of an error inside a union
# ("location.lat.float"); clients want the field path alone.
_UNION_MEMBERS = re.compile(r"^(float|int|str|bool|none|list|dict|[a-z-]+\[.*\])$")


def _field_path(loc: tuple[Any, ...]) -> str:
    # FastAPI prefixes the source ("body", "query", …); the field path is what a client sent.
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header", "form", "cookie"):
        parts = parts[1:]
    while len(parts) > 1 and _UNION_MEMBERS.match(parts[-1]):
        parts.pop()
    return ".".join(parts) or "body"


def _validation_details(exc: RequestValidationError) -> list[dict[str, Any]]:
    """One entry per field (a union's members would otherwise each report the same field)."""
    details: dict[str, str] = {}
    for err in exc.errors():
        message = str(err.get("msg", "invalid value"))
        if err.get("type") == "extra_forbidden":
            message = "unknown field"
        details.setdefault(_field_path(tuple(err.get("loc", ()))), message)
    return [{"field": field, "message": message} for field, message in details.items()]


async def _on_app_error(_: Request, exc: AppError) -> JSONResponse:
    return JSONResponse(
        error_body(exc.code, exc.message, exc.details), exc.status_code, headers=exc.headers
    )


async def _on_validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
    if any(err.get("type") == "json_invalid" for err in exc.errors()):
        return JSONResponse(
            error_body(
                "malformed_json",
                "The request body is not valid JSON.",
                [{"field": "body", "message": str(exc.errors()[0].get("msg"))}],
            ),
            400,
        )
    details = _validation_details(exc)
    fields = ", ".join(d["field"] for d in details[:5])
    return JSONResponse(
        error_body("validation_error", f"Some fields are missing or invalid: {fields}.", details),
        422,
    )


async def _on_http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
    status = HTTPStatus(exc.status_code)
    code = status.phrase.lower().replace(" ", "_").replace("-", "_")
    message = exc.detail if isinstance(exc.detail, str) else status.description
    return JSONResponse(
        error_body(code, message), exc.status_code, headers=getattr(exc, "headers", None)
    )


async def _on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    # The type, the route and the request id, and where it happened: never the exception's
    # message, which may quote the request's values (app/log_policy.py).
    route = request.scope.get("route")
    log.error(
        "unhandled %s on %s %s (request id %s)\n%s",
        describe_exception(exc),
        request.method,
        getattr(route, "path", "(no route)"),
        getattr(request.state, "request_id", "-"),
        safe_traceback(exc),
    )
    request_id = getattr(request.state, "request_id", None)
    headers = {
        **response_headers(request.scope),
        "Cache-Control": "no-store",
        **({"X-Request-ID": request_id} if request_id else {}),
    }
    return JSONResponse(
        error_body("internal_error", "Something went wrong; nothing was saved. Try again."),
        500,
        headers=headers,
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AppError, _on_app_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _on_validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _on_http_error)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, _on_unexpected)
