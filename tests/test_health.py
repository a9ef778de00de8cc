from app.config import Settings
from app.database import create_engine
from app.main import create_app


async def test_healthz_and_readyz(client):
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200


async def test_readyz_is_503_when_the_database_does_not_answer():
    import httpx

    app = create_app(Settings(secret_key="x" * 40))
    app.state.engine = create_engine("postgresql+asyncpg://postgres@127.0.0.1:1/none", pool_size=1)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.get("/readyz")
        assert (await client.get("/healthz")).status_code == 200
    await app.state.engine.dispose()
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "database_unavailable"


async def test_request_id_is_the_servers_own(client):
    # Issue 9: a client's X-Request-ID is not taken as the id the audit records.
    response = await client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    request_id = response.headers["x-request-id"]
    assert request_id != "abc-123" and len(request_id) == 32 and int(request_id, 16) >= 0


async def test_openapi_lists_the_contract_paths(client):
    schema = (await client.get("/openapi.json")).json()
    for path in (
        "/api/v1/incidents",
        "/api/v1/incidents/{incident_id}",
        "/api/v1/incidents/{incident_id}/override",
        "/api/v1/triage/preview",
        "/api/v1/auth/token",
        "/api/v1/areas",
        "/healthz",
        "/readyz",
    ):
        assert path in schema["paths"], path
    create = schema["paths"]["/api/v1/incidents"]["post"]
    assert "201" in create["responses"] and "422" in create["responses"]
