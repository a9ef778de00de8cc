"""No value a request carried reaches a log line: statement parameters are hidden, exceptions are
logged by type and place, the 500 handler logs the type and the request id."""

import io
import logging

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from app import log_policy
from app.log_policy import RedactingFilter, describe_exception, safe_traceback

CANARY = "Zebedee Canary-7741"


async def test_statement_parameters_are_not_in_a_database_error(engine):
    with pytest.raises(DBAPIError) as raised:
        async with engine.connect() as connection:
            # PostgreSQL refuses U+0000 in text: the error the old service logged.
            await connection.execute(text("SELECT CAST(:name AS text)"), {"name": f"{CANARY}\x00"})
    assert CANARY not in str(raised.value)
    assert "hidden" in str(raised.value)


async def test_a_driver_message_that_quotes_a_value_is_logged_without_it(engine):
    with pytest.raises(DBAPIError) as raised:
        async with engine.connect() as connection:
            # asyncpg's own message quotes the argument it could not encode.
            await connection.execute(text("SELECT CAST(:n AS integer) + 1"), {"n": CANARY})
    exc = raised.value
    assert CANARY in str(exc), "the driver quotes the value: the filter must drop the message"
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter())
    logger = logging.getLogger("test.log_policy.driver")
    logger.addHandler(handler)
    try:
        logger.error("query failed", exc_info=exc)
        logger.warning("could not re-check (%s)", exc)
        logger.error(exc)
    finally:
        logger.removeHandler(handler)
    output = stream.getvalue()
    assert CANARY not in output
    assert "DBAPIError" in output or "DataError" in output
    assert "test_log_policy.py" in output, "the traceback's places are kept"


async def test_constraint_errors_keep_their_code_and_constraint(engine):
    with pytest.raises(DBAPIError) as raised:
        async with engine.connect() as connection:
            await connection.execute(text("CREATE TEMP TABLE people (name text UNIQUE)"))
            for _ in range(2):
                await connection.execute(
                    text("INSERT INTO people (name) VALUES (:name)"), {"name": CANARY}
                )
    described = describe_exception(raised.value)
    assert "sqlstate=23505" in described
    assert "constraint_name=people_name_key" in described
    assert CANARY not in described + safe_traceback(raised.value)


def test_chained_exceptions_lose_every_message():
    try:
        try:
            raise ValueError(f"invalid literal: {CANARY}")
        except ValueError as inner:
            raise KeyError(CANARY) from inner
    except KeyError as outer:
        traceback_text = safe_traceback(outer)
    assert CANARY not in traceback_text
    assert "KeyError" in traceback_text and "ValueError" in traceback_text
    assert "test_chained_exceptions_lose_every_message" in traceback_text


def test_network_errors_keep_their_message():
    assert "Connection refused" in describe_exception(
        ConnectionRefusedError(111, "Connection refused")
    )


def test_install_puts_the_filter_on_every_handler():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger = logging.getLogger("test.log_policy.uvicorn-like")
    logger.addHandler(handler)
    try:
        log_policy.install()
        try:
            raise ValueError(CANARY)
        except ValueError:
            logger.exception("Exception in ASGI application")
    finally:
        logger.removeHandler(handler)
    assert "Exception in ASGI application" in stream.getvalue()
    assert CANARY not in stream.getvalue()


async def test_the_500_handler_logs_the_type_and_request_id_not_the_values(app, handler, caplog):
    async def broken() -> None:
        raise ValueError(f"could not parse {CANARY}")

    app.add_api_route("/api/v1/test-broken", broken)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    caplog.set_level(logging.INFO)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.get("/api/v1/test-broken", headers=handler)
    assert response.status_code == 500
    assert CANARY not in response.text
    handled = [r for r in caplog.records if r.name == "app.errors"]
    assert handled, caplog.text
    line = handled[0].getMessage()
    assert "ValueError" in line
    assert response.headers["x-request-id"] in line
    assert "/api/v1/test-broken" in line
    assert CANARY not in caplog.text
