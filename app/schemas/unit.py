from typing import Annotated, Literal

from pydantic import Field, StrictFloat, StrictInt, StringConstraints

from app.schemas.common import InputModel, OneLine, OutputModel, UtcDatetime

UnitKind = Literal["triage_car", "nurse_desk"]
UnitStatus = Literal[
    "available", "en_route", "on_scene", "conveying", "at_place_of_safety", "off_duty"
]
Callsign = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,19}$")]
Latitude = Annotated[StrictFloat | StrictInt, Field(ge=-90, le=90)]
Longitude = Annotated[StrictFloat | StrictInt, Field(ge=-180, le=180)]


class CrewMember(InputModel):
    name: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), OneLine
    ]
    role: Literal["officer", "nurse"]


class UnitCreate(InputModel):
    callsign: Callsign
    kind: UnitKind
    # Defaults to the creator's area.
    area: Annotated[str, StringConstraints(min_length=1, max_length=40), OneLine] | None = None
    crew: Annotated[list[CrewMember], Field(max_length=6)] = []
    status: UnitStatus = "off_duty"
    lat: Latitude | None = None
    lon: Longitude | None = None


class UnitUpdate(InputModel):
    status: UnitStatus | None = None
    lat: Latitude | None = None
    lon: Longitude | None = None
    crew: Annotated[list[CrewMember], Field(max_length=6)] | None = None


class UnitOut(OutputModel):
    callsign: str
    kind: UnitKind
    area: str
    crew: list[CrewMember]
    status: UnitStatus
    lat: float | None
    lon: float | None
    status_since: UtcDatetime
    active_assignments: int
