from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, Response
from pydantic import AwareDatetime

from app import reports as report_math
from app.auth.actor import Actor
from app.deps import Session, require_roles
from app.routers import ERROR_RESPONSES
from app.routers.guards import person_data
from app.services import reports

router = APIRouter(prefix="/api/v1/reports", tags=["reports"], responses=ERROR_RESPONSES)

Supervisor = Annotated[Actor, Depends(require_roles("supervisor"))]
# One line per detention (age, sex, ethnicity, places, times): person data.
ReturnReader = Annotated[Actor, Depends(person_data("supervisor", action="report.s136"))]
From = Annotated[
    date | AwareDatetime | None,
    Query(alias="from", description="Date (a whole Europe/London day) or time with offset"),
]
To = Annotated[
    date | AwareDatetime | None,
    Query(description="Date (inclusive) or time with offset (exclusive)"),
]


@router.get(
    "/s136",
    summary="The s135/s136 return: one line per detention, with totals (JSON or CSV)",
    responses={200: {"content": {"application/json": {}, "text/csv": {}}}},
)
async def s136_report(
    request: Request, session: Session, actor: ReturnReader, from_: From = None, to: To = None
) -> Any:
    report = await reports.s136_report(from_, to, session=session, actor=actor)
    if "text/csv" in request.headers.get("accept", ""):
        return Response(
            report_math.s136_return_csv(report),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="s136-return.csv"'},
        )
    return JSONResponse(jsonable_encoder(report))


@router.get("/rcrp", summary="Right Care, Right Person: incidents, outcomes, overrides, handovers")
async def rcrp_report(
    session: Session, actor: Supervisor, from_: From = None, to: To = None
) -> Any:
    return JSONResponse(
        jsonable_encoder(await reports.rcrp_report(from_, to, session=session, actor=actor))
    )
