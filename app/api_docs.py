"""`/docs`: Swagger UI from files shipped in a package (fastapi-offline's copy of swagger-ui-dist),
never from a CDN, so it works in a control room with no internet and under the strict CSP (the
page's own code is in `app/static/docs/`, nothing inline).

With `ENVIRONMENT=prod` the API description (`/openapi.json`) needs a signed-in user of any role.
The `/docs` page itself is an empty shell (no route, no schema): a browser cannot send a bearer
token when it opens a page, so the shell asks for a sign-in and fetches the description with the
token. ReDoc is not served: its styles are injected inline, which the CSP refuses.
"""

from importlib.resources import files
from pathlib import Path

from fastapi import Depends, FastAPI
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from app.deps import get_actor

DOCS_PAGE = Path(__file__).resolve().parent / "static" / "docs" / "index.html"


def swagger_assets_dir() -> Path:
    """Where the installed package keeps swagger-ui-bundle.js and swagger-ui.css."""
    return Path(str(files("fastapi_offline") / "static"))


def install_api_docs(app: FastAPI, *, signed_in_only: bool) -> None:
    dependencies = [Depends(get_actor)] if signed_in_only else []

    @app.get("/openapi.json", include_in_schema=False, dependencies=dependencies)
    async def openapi() -> JSONResponse:
        return JSONResponse(app.openapi())

    @app.get("/docs", include_in_schema=False)
    async def docs() -> FileResponse:
        return FileResponse(DOCS_PAGE, headers={"Cache-Control": "no-store"})

    app.mount("/docs/assets", StaticFiles(directory=swagger_assets_dir()), name="docs-assets")
