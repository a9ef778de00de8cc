"""A detention sent again: the same record (a retry, answered with what was stored) or a
changed one (refused, naming every field that differs, so a change is never silently dropped
and never escapes the rules). Pure."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any


@dataclass(frozen=True)
class Difference:
    field: str
    recorded: Any
    sent: Any

    @property
    def message(self) -> str:
        return f"recorded {_show(self.recorded)}, sent {_show(self.sent)}"

    def as_detail(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message}


def differences(recorded: Mapping[str, Any], sent: Mapping[str, Any]) -> list[Difference]:
    """Every field (dotted path, e.g. `person.age`) whose sent value differs from the recorded
    one, in the order the sent body lists them. Both are flat mappings of the same fields;
    times compare as instants."""
    found = []
    for name, value in sent.items():
        before = recorded.get(name)
        if not _same(before, value):
            found.append(Difference(name, before, value))
    return found


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, datetime) and isinstance(b, datetime):
        return a.astimezone(UTC) == b.astimezone(UTC)
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    return bool(a == b)


def _show(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, str):
        return f"'{value}'"
    return str(value)
