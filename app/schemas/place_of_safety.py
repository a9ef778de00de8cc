from typing import Annotated, Literal

from pydantic import Field, StrictFloat, StrictInt, StringConstraints

from app.schemas.common import FreeText, InputModel, OneLine, OutputModel

PlaceType = Literal[
    "health_based_place_of_safety",
    "emergency_department",
    "police_station",
    "private_home",
    "other",
]
Name = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), OneLine
]
Beds = Annotated[int, Field(ge=0, le=500)]
Exclusions = Annotated[str, StringConstraints(max_length=2000), FreeText]
Latitude = Annotated[StrictFloat | StrictInt, Field(ge=-90, le=90)]
Longitude = Annotated[StrictFloat | StrictInt, Field(ge=-180, le=180)]


class PlaceOfSafetyCreate(InputModel):
    name: Name
    type: PlaceType
    # Defaults to your own area.
    area: Annotated[str, StringConstraints(min_length=1, max_length=40), OneLine] | None = None
    available_beds: Beds = 0
    accepts_under_18: bool = False
    exclusions: Exclusions | None = None
    # Where it is (so tablets can list the nearest suitable place first).
    lat: Latitude | None = None
    lon: Longitude | None = None


class PlaceOfSafetyUpdate(InputModel):
    name: Name | None = None
    type: PlaceType | None = None
    available_beds: Beds | None = None
    accepts_under_18: bool | None = None
    exclusions: Exclusions | None = None
    lat: Latitude | None = None
    lon: Longitude | None = None


class PlaceOfSafetyOut(OutputModel):
    id: int
    name: str
    type: PlaceType
    area: str
    available_beds: int
    accepts_under_18: bool
    exclusions: str | None
    lat: float | None = None
    lon: float | None = None
