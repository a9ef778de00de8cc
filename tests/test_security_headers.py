"""Browser security headers on every response (API, pages, static files, errors), HSTS only over
TLS, no caching of the API, and the API documentation from local files, signed-in in production."""

import re
from typing import Any

import httpx
import pytest

from app.config import Settings
from app.main import create_app
from app.security_headers import content_security_policy
from tests.conftest import TEST_SECRET

EVERY_RESPONSE = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
}
STRICT_DIRECTIVES = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "frame-ancestors": "'none'",
}


def directives(policy: str) -> dict[str, str]:
    return dict(part.strip().split(" ", 1) for part in policy.split(";"))


def assert_browser_headers(response: httpx.Response) -> None:
    for name, value in EVERY_RESPONSE.items():
        assert response.headers.get(name) == value, (response.url, name)
    policy = directives(response.headers["content-security-policy"])
    for name, value in STRICT_DIRECTIVES.items():
        assert policy[name] == value, (response.url, name)
    assert "'unsafe-inline'" not in response.headers["content-security-policy"]
    assert "'unsafe-eval'" not in response.headers["content-security-policy"]
    permissions = response.headers["permissions-policy"]
    for feature in ("camera", "microphone", "geolocation"):
        assert f"{feature}=()" in permissions
    assert "server" not in response.headers


@pytest.mark.parametrize(
    "path",
    ["/api/v1/incidents", "/api/v1/units", "/healthz", "/intake", "/tablet", "/nurse",
     "/dashboard", "/static/index.html", "/static/common/live.js", "/docs", "/openapi.json",
     "/api/v1/no-such-thing"],
)  # fmt: skip
async def test_every_response_carries_the_browser_headers(client, handler, path):
    response = await client.get(path, headers=handler)
    assert response.status_code in (200, 404), response.text
    assert_browser_headers(response)
    assert "strict-transport-security" not in response.headers


@pytest.mark.parametrize("path", ["/api/v1/incidents", "/api/v1/units", "/openapi.json"])
async def test_api_responses_are_never_stored(client, handler, path):
    response = await client.get(path, headers=handler)
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"


async def test_errors_and_refusals_are_not_stored_either(client, handler):
    unauthenticated = await client.get("/api/v1/incidents")
    assert unauthenticated.status_code == 401
    assert unauthenticated.headers["cache-control"] == "no-store"
    assert_browser_headers(unauthenticated)
    too_large = await client.post("/api/v1/incidents", content=b"x" * (70 * 1024), headers=handler)
    assert too_large.status_code == 413
    assert too_large.headers["cache-control"] == "no-store"
    assert_browser_headers(too_large)


async def test_pages_revalidate_and_static_code_may_be_cached(client):
    page = await client.get("/intake")
    assert page.headers["cache-control"] == "no-cache"
    script = await client.get("/static/common/live.js")
    assert "cache-control" not in script.headers


async def test_a_500_carries_the_headers_too(app, handler):
    """Starlette sends a 500 from outside every middleware: the handler adds them itself."""

    async def broken() -> None:
        raise RuntimeError("boom")

    app.add_api_route("/api/v1/test-broken", broken)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="https://test") as client:
        response = await client.get("/api/v1/test-broken", headers=handler)
    assert response.status_code == 500
    assert_browser_headers(response)
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["strict-transport-security"].startswith("max-age=")
    assert response.headers["x-request-id"]


async def test_hsts_only_over_tls(app, handler):
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://test") as tls_client:
        over_tls = await tls_client.get("/api/v1/units", headers=handler)
        page = await tls_client.get("/intake")
    for response in (over_tls, page):
        hsts = response.headers["strict-transport-security"]
        assert int(re.search(r"max-age=(\d+)", hsts).group(1)) >= 180 * 24 * 3600


def test_the_policy_allows_the_same_origin_websocket_only():
    plain = directives(content_security_policy("triage.example:8000", tls=False))
    assert plain["connect-src"].split() == ["'self'", "ws://triage.example:8000"]
    tls = directives(content_security_policy("triage.example", tls=True))
    assert tls["connect-src"].split() == ["'self'", "wss://triage.example"]
    # A Host header that is not a plain host[:port] never widens the policy.
    odd = directives(content_security_policy("evil.example; script-src *", tls=False))
    assert odd["connect-src"] == "'self'"
    assert odd["script-src"] == "'self'"


# The API documentation ---------------------------------------------------------------------


async def test_docs_load_swagger_ui_from_local_files_only(client):
    page = await client.get("/docs")
    assert page.status_code == 200
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert sources, page.text
    assert all(s.startswith("/") and not s.startswith("//") for s in sources), sources
    assert "<script>" not in page.text and "<style" not in page.text  # nothing inline
    for source in sources:
        asset = await client.get(source)
        assert asset.status_code == 200, source
        assert len(asset.content) > 100
    bundle = await client.get("/docs/assets/swagger-ui-bundle.js")
    assert b"SwaggerUIBundle" in bundle.content


async def test_redoc_is_not_served(client):
    assert (await client.get("/redoc")).status_code == 404


async def test_in_development_the_description_is_open(client):
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    assert "/api/v1/incidents" in response.json()["paths"]


@pytest.fixture
async def prod_client(engine: Any, sessionmaker: Any, app: Any) -> Any:
    prod = create_app(Settings(secret_key=TEST_SECRET, environment="prod"))
    prod.state.sessionmaker = sessionmaker
    prod.state.secret_key = TEST_SECRET
    transport = httpx.ASGITransport(app=prod)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


async def test_in_production_the_description_needs_a_signed_in_user(prod_client, make_user):
    anonymous = await prod_client.get("/openapi.json")
    assert anonymous.status_code == 401
    assert anonymous.json()["error"]["code"] == "unauthenticated"
    assert "paths" not in anonymous.text
    bad_token = await prod_client.get(
        "/openapi.json", headers={"Authorization": "Bearer not-a-token"}
    )
    assert bad_token.status_code == 401
    for role in ("call_handler", "supervisor"):
        signed_in = await prod_client.get("/openapi.json", headers=await make_user(role))
        assert signed_in.status_code == 200
        assert "/api/v1/incidents" in signed_in.json()["paths"]
    # The page is a shell holding no part of the description; its script asks for a sign-in.
    shell = await prod_client.get("/docs")
    assert shell.status_code == 200
    assert "/api/v1/" not in shell.text.replace("/api/v1/auth", "")
    assert (await prod_client.get("/redoc")).status_code == 404
