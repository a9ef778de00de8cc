from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    PlainSerializer,
    StringConstraints,
)
from pydantic_core import PydanticCustomError

from app.schemas.text_rules import bad_character, problem_message


def _representable_in_utc(value: datetime) -> datetime:
    # 0001-01-01T00:00+14:00 is a valid time that has no UTC form in Python: it used to fail in
    # the database driver (a 500, with the statement's parameters in the error).
    try:
        value.astimezone(UTC)
    except OverflowError:
        raise PydanticCustomError(
            "datetime_out_of_range", "is outside the years 1 to 9999 once in UTC"
        ) from None
    return value


# Times go out as ISO 8601 in UTC with an explicit offset.
UtcDatetime = Annotated[
    AwareDatetime,
    AfterValidator(_representable_in_utc),
    PlainSerializer(lambda v: v.astimezone(UTC).isoformat(), return_type=str),
]


def _checked(text: str, *, free_text: bool) -> str:
    char = bad_character(text, free_text=free_text)
    if char is not None:
        raise PydanticCustomError("control_character", problem_message(char, free_text=free_text))
    return text


def _one_line(text: str) -> str:
    return _checked(text, free_text=False)


def _free_text(text: str) -> str:
    return _checked(text, free_text=True)


# Every text field of a request is one of two kinds (app/schemas/text_rules.py): one line (a name,
# a phone number, a code) holds no control character at all; free text may hold tab and line
# breaks. Both refuse the rest with a 422 naming the field.
OneLine = AfterValidator(_one_line)
FreeText = AfterValidator(_free_text)


ShortText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200), OneLine]
Text = Annotated[str, StringConstraints(max_length=10_000), FreeText]


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
