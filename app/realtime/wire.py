"""How an event looks on the socket: {"id", "type", "at", "data"}."""

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from app.realtime.audience import Envelope, summary_of


def render(row: Mapping[str, Any]) -> tuple[str, str]:
    """(full, public): with and without the need-to-know summary in `restricted`."""
    base = {"id": row["id"], "type": row["type"], "at": row["at"].astimezone(UTC).isoformat()}
    public = json.dumps({**base, "data": row["data"]}, separators=(",", ":"))
    if not row["restricted"]:
        return public, public
    data = {**row["data"], **row["restricted"]}
    return json.dumps({**base, "data": data}, separators=(",", ":")), public


def envelope(row: Mapping[str, Any]) -> Envelope:
    """`row`: an events row as a mapping (an asyncpg Record or a SQLAlchemy row's _mapping)."""
    full, public = render(row)
    return Envelope(
        id=row["id"],
        area_id=row["area_id"],
        unit_callsign=row["unit_callsign"],
        audience=tuple(row["audience"] or ()),
        full=full,
        public=public,
        summary_of=summary_of(row["restricted"]),
    )


def control(type_: str, **data: Any) -> str:
    """A message that is not an event (pong, resync, results): no id, not replayed."""
    return json.dumps(
        {"type": type_, "at": datetime.now(UTC).isoformat(), "data": data}, separators=(",", ":")
    )
