from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, PlainSerializer, StringConstraints

# Times go out as ISO 8601 in UTC with an explicit offset.
UtcDatetime = Annotated[
    AwareDatetime, PlainSerializer(lambda v: v.astimezone(UTC).isoformat(), return_type=str)
]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
Text = Annotated[str, StringConstraints(max_length=10_000)]


class InputModel(BaseModel):
    """Request bodies: unknown fields are refused, so a misspelt risk flag cannot pass as unset."""

    model_config = ConfigDict(extra="forbid")


class OutputModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class ErrorDetail(BaseModel):
    field: str
    message: str


class ErrorInfo(BaseModel):
    code: str
    message: str
    details: list[ErrorDetail | dict[str, Any]]


class ErrorResponse(BaseModel):
    error: ErrorInfo


def utcnow() -> datetime:
    return datetime.now(UTC)
