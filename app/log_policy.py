"""What a log line may hold: never person data, so never a value a request carried.

Values reach logs through exceptions: a database error carries the statement's parameters (and
asyncpg's own messages quote the offending argument), a pydantic error quotes its input, a
`ValueError` its argument. So an exception is logged by what it is and where it happened (its
type, the database's error code and constraint, the file, line and function of each frame),
never by its message. Network errors (`OSError`) keep their message: it names hosts and ports,
not people.

`RedactingFilter` applies this to every record passing through a handler it is installed on,
whoever logged it (uvicorn's "Exception in ASGI application", SQLAlchemy's pool, asyncio's
"Task exception was never retrieved", our own code); `install()` puts it on every handler.
"""

import logging
import traceback
from types import TracebackType
from typing import Any

_DATABASE_FIELDS = ("sqlstate", "constraint_name", "table_name", "column_name")


def describe_exception(exc: BaseException) -> str:
    """The exception's type and safe particulars, never its message (OSError excepted)."""
    name = f"{type(exc).__module__}.{type(exc).__qualname__}".removeprefix("builtins.")
    if isinstance(exc, OSError):
        return f"{name}: {exc}"
    particulars = [
        f"{field}={value}"
        for field in _DATABASE_FIELDS
        if (value := _database_attribute(exc, field)) is not None
    ]
    return f"{name} ({', '.join(particulars)})" if particulars else name


def _database_attribute(exc: BaseException, field: str) -> Any:
    # SQLAlchemy wraps the driver's error (`.orig`), whose asyncpg error is its cause.
    for candidate in (exc, getattr(exc, "orig", None), getattr(exc, "__cause__", None)):
        if candidate is None:
            continue
        value = getattr(candidate, field, None)
        if isinstance(value, str):
            return value
        inner = getattr(candidate, "__cause__", None)
        value = getattr(inner, field, None) if inner is not None else None
        if isinstance(value, str):
            return value
    return None


def safe_traceback(exc: BaseException) -> str:
    """A traceback with every frame but no exception message, for the whole chain."""
    sections: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        frames = "".join(traceback.format_list(traceback.extract_tb(current.__traceback__)))
        sections.append(
            f"Traceback (types and places only):\n{frames}{describe_exception(current)}"
        )
        current = current.__cause__ or (
            None if current.__suppress_context__ else current.__context__
        )
    return "\n\nwhich was raised while handling:\n".join(sections)


ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]


class RedactingFilter(logging.Filter):
    """Rewrites a record so that no exception's message reaches the output."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc_info = record.exc_info
        if exc_info and exc_info[1] is not None:
            record.exc_text = safe_traceback(exc_info[1])
            record.exc_info = None
        elif record.exc_text and not getattr(record, "_redacted", False):
            # Formatted elsewhere already, from an exception we cannot see: drop it.
            record.exc_text = "(traceback withheld: it may hold request values)"
        record._redacted = True
        if isinstance(record.msg, BaseException):
            record.msg = describe_exception(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_safe_arg(arg) for arg in record.args)
        elif isinstance(record.args, dict):
            record.args = {key: _safe_arg(value) for key, value in record.args.items()}
        return True


def _safe_arg(arg: Any) -> Any:
    return describe_exception(arg) if isinstance(arg, BaseException) else arg


_FILTER = RedactingFilter()


def install() -> None:
    """Put the filter on every handler that exists now (the root's and uvicorn's). Called once
    logging is configured: at start-up of the application."""
    loggers: list[logging.Logger] = [logging.getLogger()]
    loggers += [
        logger
        for logger in logging.Logger.manager.loggerDict.values()
        if isinstance(logger, logging.Logger)
    ]
    for logger in loggers:
        for handler in logger.handlers:
            if _FILTER not in handler.filters:
                handler.addFilter(_FILTER)
