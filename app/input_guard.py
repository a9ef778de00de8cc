"""Refuses control characters anywhere in a request before any route sees it.

The schemas check their own text fields (one line or free text, `app/schemas/common.py`); this
guard covers what no schema describes: the path, the query string, form bodies (sign-in), keys and
nested values of JSON bodies, and routes whose bodies are not pydantic models. Any C0 control
character other than tab and line breaks, or a lone surrogate, answers 422 naming the field, so
such a value never reaches a query, a log line or the database (PostgreSQL refuses U+0000, and
the error it raised used to carry every parameter of the statement into the log).
"""

import json
from typing import Any
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import error_body
from app.schemas.text_rules import bad_character, find_bad_strings, problem_message

_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def check_path_and_query(scope: Scope) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    char = bad_character(scope.get("path", ""), free_text=False)
    if char is not None:
        found.append(("path", problem_message(char, free_text=False)))
    query = scope.get("query_string", b"").decode("latin-1")
    for name, value in parse_qsl(query, keep_blank_values=True):
        name_char = bad_character(name, free_text=False)
        if name_char is not None:
            found.append(("query", problem_message(name_char, free_text=False)))
            continue
        char = bad_character(value, free_text=False)
        if char is not None:
            found.append((name, problem_message(char, free_text=False)))
    return found


def check_body(content_type: str, body: bytes) -> list[tuple[str, str]]:
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type == "application/x-www-form-urlencoded":
        found: list[tuple[str, str]] = []
        for name, value in parse_qsl(body.decode("latin-1"), keep_blank_values=True):
            name_char = bad_character(name, free_text=False)
            if name_char is not None:
                found.append(("body", problem_message(name_char, free_text=False)))
                continue
            char = bad_character(value, free_text=False)
            if char is not None:
                found.append((name, problem_message(char, free_text=False)))
        return found
    if media_type == "application/json" or media_type.endswith("+json"):
        try:
            parsed: Any = json.loads(body)
        except ValueError:
            return []  # the route answers 400 malformed_json
        except RecursionError:
            return [("body", "nested too deeply")]
        try:
            return find_bad_strings(parsed)
        except RecursionError:
            return [("body", "nested too deeply")]
    return []


class ControlCharacterGuard:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            if check_path_and_query(scope):
                # Before accept, a close answers the handshake with 403.
                await send({"type": "websocket.close", "code": 1008, "reason": "bad characters"})
                return
            await self.app(scope, receive, send)
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        found = check_path_and_query(scope)
        if found:
            await _refuse(send, found)
            return
        if scope["method"] not in _BODY_METHODS:
            await self.app(scope, receive, send)
            return
        # Bodies are small (the size cap runs before this guard), so the whole body is read here
        # and replayed to the application.
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        content_type = dict(scope["headers"]).get(b"content-type", b"").decode("latin-1")
        found = check_body(content_type, body)
        if found:
            await _refuse(send, found)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


async def _refuse(send: Send, found: list[tuple[str, str]]) -> None:
    details = [{"field": field, "message": message} for field, message in found[:20]]
    fields = ", ".join(d["field"] for d in details[:5])
    payload = json.dumps(
        error_body(
            "control_character",
            f"Text may not hold control characters (tab and line breaks only in free text): "
            f"{fields}.",
            details,
        )
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 422,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})
