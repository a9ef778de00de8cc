"""Request bodies for tests."""

import copy
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

BASE_INCIDENT: dict[str, Any] = {
    "area": "default",
    "source": "police_999",
    "category": "mental_health_crisis",
    # Set when a body is built (see incident()): a fixed date would fall out of "today" reports.
    "reported_at": None,
    "location": {
        "description": "Trent Bridge, north side",
        "lat": 52.94,
        "lon": -1.14,
        "kind": "public_place",
    },
    "person": {
        "name": None,
        "description": "man, 30s, red coat",
        "age": 34,
        "gender": "male",
        "language": "en",
        "communication_needs": None,
    },
    "circumstances": "Caller sees a man on the railings who says he wants to die.",
    "risk": {
        "crime_in_progress": False,
        "crime_committed": False,
        "weapon": False,
        "violence_to_others": False,
        "immediate_risk_to_life": True,
        "serious_harm": False,
        "self_harm": False,
        "suicidal": True,
        "intoxicated": False,
        "medical_emergency": False,
    },
    "context": {
        "known_to_mh_services": True,
        "crisis_plan": False,
        "liable_to_detention_under_mha": False,
        "health_setting_checks_done": False,
        "caller_is_health_professional": False,
    },
}


def incident(**changes: Any) -> dict[str, Any]:
    """The contract's example incident, with top-level fields or dotted paths changed:
    incident(**{"risk.weapon": True}). A value of ... removes the field."""
    body = copy.deepcopy(BASE_INCIDENT)
    # A few minutes ago, whatever the day and hour the test runs.
    body["reported_at"] = (datetime.now(UTC) - timedelta(minutes=3)).isoformat()
    for path, value in changes.items():
        *parents, leaf = path.split(".")
        target = body
        for part in parents:
            target = target[part]
        if value is ...:
            target.pop(leaf, None)
        else:
            target[leaf] = value
    return body


def scenarios_path() -> Path:
    """The public worked cases: the normative copy in ../shared when it is beside the project
    (as in CI), else the copy kept in tests/data (a clone on its own)."""
    shared = Path(__file__).resolve().parents[2] / "shared" / "scenarios" / "rcrp-public.jsonl"
    return shared if shared.exists() else Path(__file__).parent / "data" / "rcrp-public.jsonl"


def scenarios() -> list[dict[str, Any]]:
    lines = scenarios_path().read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]
