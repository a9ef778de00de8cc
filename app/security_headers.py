"""Browser security headers on every HTTP response.

- A strict Content-Security-Policy: scripts, styles, images, fonts and connections from this
  origin only (and its websocket), no inline code, no plugins, no `<base>`, never framed. The
  web apps hold person data: an injected script must have nowhere to run and nowhere to send.
- `nosniff`, `Referrer-Policy: no-referrer` (ids in paths stay here), a Permissions-Policy that
  turns off every device feature (no screen uses camera, microphone or location), cross-origin
  isolation of windows and resources.
- HSTS only when the request came over TLS (directly or through a trusted proxy's
  `X-Forwarded-Proto`): over plain HTTP the header is meaningless and, on a development machine,
  harmful.
- `Cache-Control: no-store` on the API (person data must not sit in a browser's or a proxy's
  cache) and on anything else that does not say otherwise; the apps' static files (code, no data)
  stay cacheable.

uvicorn's own `server` header is turned off where uvicorn is started (`server_header=False`).
"""

import re

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_HOST = re.compile(r"^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$")

PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "usb",
    )
)
HSTS = "max-age=31536000; includeSubDomains"
NO_STORE = "no-store"
CACHEABLE_PREFIXES = ("/static/", "/docs/assets/")


def content_security_policy(host: str | None, *, tls: bool) -> str:
    """The policy for a response to a request sent to `host`. `connect-src 'self'` covers the
    same origin's websocket in current browsers; older WebKit (tablets not yet updated) needs
    the ws/wss origin spelt out, so it is, when the Host header is a plain host[:port]."""
    connect = ["'self'"]
    if host and _HOST.match(host):
        connect.append(f"{'wss' if tls else 'ws'}://{host}")
    directives = {
        "default-src": "'self'",
        "script-src": "'self'",
        "style-src": "'self'",
        "img-src": "'self' data:",
        "font-src": "'self'",
        "connect-src": " ".join(connect),
        "object-src": "'none'",
        "base-uri": "'none'",
        "frame-ancestors": "'none'",
        "form-action": "'self'",
    }
    return "; ".join(f"{name} {value}" for name, value in directives.items())


def cache_control_for(path: str, current: str | None) -> str | None:
    """The Cache-Control a response to `path` must carry (None: leave it as it is)."""
    if path.startswith("/api/") or path == "/openapi.json":
        return NO_STORE
    if path.startswith(CACHEABLE_PREFIXES):
        return None
    return None if current else NO_STORE


def response_headers(scope: Scope) -> dict[str, str]:
    """The headers every response to this request carries (Cache-Control apart)."""
    tls = scope.get("scheme") == "https"
    host = dict(scope.get("headers", ())).get(b"host", b"").decode("latin-1") or None
    headers = {
        "Content-Security-Policy": content_security_policy(host, tls=tls),
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",  # for browsers that predate frame-ancestors
        "Referrer-Policy": "no-referrer",
        "Permissions-Policy": PERMISSIONS_POLICY,
        "Cross-Origin-Opener-Policy": "same-origin",
        "Cross-Origin-Resource-Policy": "same-origin",
    }
    if tls:
        headers["Strict-Transport-Security"] = HSTS
    return headers


class SecurityHeadersMiddleware:
    """Adds `response_headers` to every HTTP response. (A 500 is sent from outside every
    middleware, by Starlette's error middleware: the 500 handler adds them itself.)"""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = response_headers(scope)
        path = scope.get("path", "")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in extra.items():
                    headers[name] = value
                cache_control = cache_control_for(path, headers.get("cache-control"))
                if cache_control is not None:
                    headers["Cache-Control"] = cache_control
                if "server" in headers:
                    del headers["server"]
            await send(message)

        await self.app(scope, receive, send_with_headers)
