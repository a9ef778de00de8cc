"""The web apps served by the service: static files, no build step, nothing from the internet."""

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, RedirectResponse

STATIC_DIR = Path(__file__).resolve().parents[1] / "static"

router = APIRouter(tags=["pages"], include_in_schema=False)

PAGES = {
    "dashboard": "dashboard",  # supervisors
    "intake": "intake",  # call handlers
    "tablet": "tablet",  # triage-car crews
    "nurse": "nurse",  # the nurse desk
}


def _page(folder: str):
    async def serve() -> FileResponse:
        return FileResponse(
            STATIC_DIR / folder / "index.html", headers={"Cache-Control": "no-cache"}
        )

    return serve


for path, folder in PAGES.items():
    router.add_api_route(f"/{path}", _page(folder), methods=["GET"], name=f"page_{path}")


@router.get("/")
async def home() -> RedirectResponse:
    return RedirectResponse("/static/index.html")
