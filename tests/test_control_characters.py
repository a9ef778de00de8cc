"""Control characters in a request answer 422 naming the field, and nothing is written.

One NUL character in a text field used to give a 500 whose logged database error held every
parameter of the statement (name, phone, circumstances)."""

import importlib
import json
import pkgutil
import types
import typing
from typing import Annotated, Any, get_args, get_origin

import pytest
from pydantic import ValidationError
from sqlalchemy import func, select

import app.schemas
from app.models import AuditEntry, Incident
from app.schemas.common import FreeText, InputModel, OneLine
from app.schemas.incident import IncidentCreate
from tests.factories import incident
from tests.test_bad_input import assert_error_shape

# Every text field of an incident, and whether it is free text (tab and line breaks allowed).
INCIDENT_TEXT_FIELDS = {
    "area": False,
    "location.description": False,
    "person.name": False,
    "person.description": True,
    "person.language": False,
    "person.communication_needs": True,
    "caller.name": False,
    "caller.role": False,
    "caller.phone": False,
    "circumstances": True,
}


def incident_with(**changes: Any) -> dict[str, Any]:
    """The example incident with a caller too, and `changes` applied (dotted paths)."""
    body = incident()
    body["caller"] = {"name": "Sam", "role": "ward nurse", "phone": "0115 496 0000"}
    for path, value in changes.items():
        *parents, leaf = path.split(".")
        target = body
        for part in parents:
            target = target[part]
        target[leaf] = value
    return body


async def post_json(client, path: str, body: Any, headers: dict[str, str]):
    """POST `body` as ASCII JSON: escapes such as "\\ud800" (a lone surrogate) survive, as a
    hostile client would send them."""
    return await client.post(
        path,
        content=json.dumps(body, ensure_ascii=True),
        headers={**headers, "Content-Type": "application/json"},
    )


async def counts(session) -> tuple[int, int]:
    incidents = await session.scalar(select(func.count()).select_from(Incident))
    audit = await session.scalar(select(func.count()).select_from(AuditEntry))
    return incidents, audit


def fields_of(response) -> list[str]:
    return [d["field"] for d in response.json()["error"]["details"]]


@pytest.mark.parametrize("field", INCIDENT_TEXT_FIELDS)
@pytest.mark.parametrize("char", ["\x00", "\x1b", "\x7f\x08", "\ud800"], ids=repr)
async def test_control_character_in_any_incident_field_is_422_and_nothing_written(
    client, handler, session, field, char
):
    before = await counts(session)
    body = incident_with(**{field: f"ab{char}cd"})
    response = await post_json(client, "/api/v1/incidents", body, handler)
    assert response.status_code == 422, response.text
    assert_error_shape(response.json())
    assert fields_of(response) == [field]
    assert await counts(session) == before
    preview = await post_json(client, "/api/v1/triage/preview", body, handler)
    assert preview.status_code == 422
    assert fields_of(preview) == [field]


@pytest.mark.parametrize("field", [f for f, free in INCIDENT_TEXT_FIELDS.items() if free])
async def test_free_text_keeps_tab_and_line_breaks(client, handler, field):
    text = "first line\r\nsecond\tline\nthird"
    response = await client.post(
        "/api/v1/incidents", json=incident_with(**{field: text}), headers=handler
    )
    assert response.status_code == 201, response.text
    *parents, leaf = field.split(".")
    stored = response.json()
    for part in parents:
        stored = stored[part]
    assert stored[leaf] == text


@pytest.mark.parametrize("field", [f for f, free in INCIDENT_TEXT_FIELDS.items() if not free])
@pytest.mark.parametrize("char", ["\t", "\n", "\r"], ids=repr)
async def test_one_line_fields_refuse_tab_and_line_breaks(client, handler, session, field, char):
    before = await counts(session)
    response = await client.post(
        "/api/v1/incidents", json=incident_with(**{field: f"ab{char}cd"}), headers=handler
    )
    assert response.status_code == 422, response.text
    assert fields_of(response) == [field]
    assert "single line" in response.json()["error"]["details"][0]["message"]
    assert await counts(session) == before


async def test_every_offending_field_is_named(client, handler):
    body = incident_with(
        **{"person.name": "A\x00", "caller.phone": "0\x00", "circumstances": "\x00"}
    )
    response = await client.post("/api/v1/incidents", json=body, headers=handler)
    assert response.status_code == 422
    assert set(fields_of(response)) == {"person.name", "caller.phone", "circumstances"}


async def test_control_character_in_a_json_key_is_422(client, handler, session):
    before = await counts(session)
    body = incident_with()
    body["person"]["na\x00me"] = "x"
    response = await client.post("/api/v1/incidents", json=body, headers=handler)
    assert response.status_code == 422
    assert fields_of(response) == ["person (a key)"]
    assert "\x00" not in response.text
    assert await counts(session) == before


async def test_control_character_in_a_list_names_the_item(client, supervisor):
    car = {"callsign": "TC7", "kind": "triage_car", "crew": [{"name": "Ok", "role": "officer"}]}
    car["crew"].append({"name": "Bad\x00name", "role": "nurse"})
    response = await client.post("/api/v1/units", json=car, headers=supervisor)
    assert response.status_code == 422
    assert fields_of(response) == ["crew.1.name"]


async def test_control_character_in_the_path_is_422(client, supervisor):
    response = await client.patch(
        "/api/v1/units/TC%001", json={"status": "available"}, headers=supervisor
    )
    assert response.status_code == 422
    assert fields_of(response) == ["path"]


async def test_control_character_in_the_query_is_422(client, handler):
    response = await client.get("/api/v1/incidents?cursor=a%00b", headers=handler)
    assert response.status_code == 422
    assert fields_of(response) == ["cursor"]


async def test_control_character_in_the_sign_in_form_is_422_not_500(client):
    response = await client.post(
        "/api/v1/auth/token", data={"username": "some\x00one", "password": "whatever-long"}
    )
    assert response.status_code == 422
    assert fields_of(response) == ["username"]


@pytest.mark.parametrize(
    ("path", "method", "body", "field"),
    [
        (
            "/api/v1/units",
            "post",
            {"callsign": "TC8", "kind": "triage_car", "area": "d\x00"},
            "area",
        ),
        (
            "/api/v1/places-of-safety",
            "post",
            {"name": "Ward\x00", "type": "emergency_department"},
            "name",
        ),
        ("/api/v1/escalations/1/acknowledge", "post", {"action": "Rang\x00"}, "action"),
        ("/api/v1/incidents/1/close", "post", {"reason": "other", "note": "\x00"}, "note"),
        ("/api/v1/assignments/1/decline", "post", {"reason": "no\x00"}, "reason"),
    ],
)
async def test_other_bodies_refuse_control_characters(
    client, supervisor, path, method, body, field
):
    response = await getattr(client, method)(path, json=body, headers=supervisor)
    assert response.status_code == 422, response.text
    assert field in fields_of(response)


def test_the_schemas_refuse_control_characters_without_the_http_guard():
    """Services and the command line validate with the same schemas."""
    with pytest.raises(ValidationError) as refused:
        IncidentCreate.model_validate(incident_with(**{"circumstances": "a\x00b"}))
    assert refused.value.errors()[0]["loc"] == ("circumstances",)
    with pytest.raises(ValidationError):
        IncidentCreate.model_validate(incident_with(**{"person.name": "Tab\there"}))


def _text_types(annotation: Any) -> list[Any]:
    """Every `str` (bare or Annotated) inside a field's annotation."""
    if annotation is str:
        return [annotation]
    if get_origin(annotation) is Annotated:
        base, *_ = get_args(annotation)
        return [annotation] if base is str else _text_types(base)
    if get_origin(annotation) in (typing.Union, types.UnionType, list, dict, tuple):
        return [t for arg in get_args(annotation) for t in _text_types(arg)]
    return []


def _is_ruled(text_type: Any) -> bool:
    if text_type is str:
        return False
    metadata = get_args(text_type)[1:]
    if any(m is OneLine or m is FreeText for m in metadata):
        return True
    # A pattern that admits no control character (callsigns, area codes) is a rule too.
    return any(getattr(m, "pattern", None) for m in metadata)


def _input_models() -> list[type[InputModel]]:
    seen: list[type[InputModel]] = []
    stack = list(InputModel.__subclasses__())
    while stack:
        model = stack.pop()
        if model not in seen:
            seen.append(model)
            stack.extend(model.__subclasses__())
    return seen


def _field_type(info: Any) -> Any:
    # pydantic keeps a top-level Annotated's constraints apart, in `metadata`.
    if info.annotation is str and info.metadata:
        return Annotated[(str, *info.metadata)]
    return info.annotation


def test_every_text_field_of_every_request_schema_is_one_line_or_free_text():
    """A new text field must say which it is: a bare `str` fails this test."""
    for module in pkgutil.iter_modules(app.schemas.__path__):
        importlib.import_module(f"app.schemas.{module.name}")
    models = _input_models()
    assert IncidentCreate in models
    unruled = [
        f"{model.__name__}.{name}"
        for model in models
        for name, info in model.model_fields.items()
        for text_type in _text_types(_field_type(info))
        if not _is_ruled(text_type)
    ]
    assert unruled == []


@pytest.mark.parametrize(
    "when", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"], ids=["before", "after"]
)
async def test_a_time_with_no_utc_form_is_422_not_a_driver_error(client, handler, session, when):
    before = await counts(session)
    response = await client.post(
        "/api/v1/incidents", json=incident_with(reported_at=when), headers=handler
    )
    assert response.status_code == 422, response.text
    assert fields_of(response) == ["reported_at"]
    assert await counts(session) == before


async def test_json_nested_too_deeply_is_422_not_500(client, handler):
    deep = b'{"person": ' + b"[" * 30_000 + b"]" * 30_000 + b"}"
    response = await client.post(
        "/api/v1/incidents", content=deep, headers={**handler, "Content-Type": "application/json"}
    )
    assert response.status_code == 422
    assert fields_of(response) == ["body"]
