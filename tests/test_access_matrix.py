"""Every route of the application × every role: the status each gets (docs/security.md).

Built from the app's own route table: a route without an entry here fails
`test_every_route_has_an_entry`, so nothing is added without deciding who may use it. Each
request runs in a savepoint rolled back afterwards, so every role meets the same state.

A crew here is TC1's, the nurse the desk DESK1's. Statuses other than 2xx/401/403 are need to
know (404: not your unit's, as if it did not exist) or the state (409: what the request asks is
refused whoever asks; the access check passed).
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.routing import APIRoute, APIWebSocketRoute
from starlette.routing import Mount, Route

from app.main import create_app
from tests.factories import incident
from tests.world import (
    ADVICE_CALL,
    add_place,
    add_unit,
    detain,
    detention,
    new_incident,
    offer_to,
)

ROLES = ("call_handler", "crew", "nurse", "supervisor", "admin")
NO_TOKEN = "no token"


@dataclass(frozen=True)
class Entry:
    """Who gets what: {role: status}; roles left out get 403, no token gets 401."""

    allowed: dict[str, int]
    body: Any = None
    query: str = ""
    public: bool = False  # no sign-in: everyone (and no token) gets the first status
    checked_elsewhere: str = ""  # routes this test cannot drive (the websocket)
    form: dict[str, str] = field(default_factory=dict)

    def expected(self, role: str) -> int:
        if self.public:
            return next(iter(self.allowed.values()))
        if role == NO_TOKEN:
            return 401
        return self.allowed.get(role, 403)


def every(status: int) -> dict[str, int]:
    return dict.fromkeys(ROLES, status)


def minutes_ago(minutes: float) -> str:
    return (datetime.now(UTC) - timedelta(minutes=minutes)).isoformat()


HANDLERS_AND_SUPERVISORS = {"call_handler": 200, "supervisor": 200}
# The s136 record: the recording unit (TC1) and supervisors; the nurse desk reads a record only
# when consulted on that incident (not here: 404, as if there were none) and never records.
READERS = {"crew": 200, "supervisor": 200, "nurse": 404}
RECORDERS = {"crew": 200, "supervisor": 200}
S136 = "/api/v1/incidents/{incident_id}/s136"

# A file each mounted folder serves, to ask for.
MOUNTED_FILES = {"/static": "/static/index.html", "/docs/assets": "/docs/assets/swagger-ui.css"}

MATRIX: dict[tuple[str, str], Entry] = {
    # Public: the process, the pages (they sign in themselves), the API's description.
    ("GET", "/healthz"): Entry(every(200), public=True),
    ("GET", "/readyz"): Entry(every(200), public=True),
    ("GET", "/"): Entry(every(307), public=True),
    ("GET", "/dashboard"): Entry(every(200), public=True),
    ("GET", "/intake"): Entry(every(200), public=True),
    ("GET", "/tablet"): Entry(every(200), public=True),
    ("GET", "/nurse"): Entry(every(200), public=True),
    ("MOUNT", "/static"): Entry(every(200), public=True),
    ("GET", "/docs"): Entry(every(200), public=True),
    ("MOUNT", "/docs/assets"): Entry(every(200), public=True),  # Swagger UI's own files
    ("GET", "/openapi.json"): Entry(every(200), public=True),
    # Sign-in needs no token; wrong credentials are refused whoever sends them.
    ("POST", "/api/v1/auth/token"): Entry(
        every(401), public=True, form={"username": "nobody-{role}", "password": "wrong-password"}
    ),
    ("WS", "/ws"): Entry(
        {},
        checked_elsewhere="tests/test_live_events.py::test_who_receives_what and "
        "::test_socket_refuses_bad_tickets_and_tokens_with_a_clear_code",
    ),
    # Any signed-in account: a ticket for its own socket; signing out its own session (driven
    # in its own tests: here it would end the session the rest of the matrix uses).
    ("POST", "/api/v1/auth/ws-ticket"): Entry(every(200)),
    ("POST", "/api/v1/auth/logout"): Entry(
        {},
        checked_elsewhere="tests/test_auth_and_roles.py::test_sign_out_ends_the_session_and_only_that_one",
    ),
    # Incidents: the desk and supervisors; a unit reads one once it has taken it.
    ("POST", "/api/v1/incidents"): Entry({"call_handler": 201, "supervisor": 201}, body=incident()),
    ("GET", "/api/v1/incidents"): Entry(HANDLERS_AND_SUPERVISORS),
    ("GET", "/api/v1/incidents/{incident_id}"): Entry(
        {"call_handler": 200, "supervisor": 200, "crew": 200, "nurse": 404}
    ),
    ("POST", "/api/v1/incidents/{incident_id}/override"): Entry(
        HANDLERS_AND_SUPERVISORS, body={"outcome": "triage_car", "reason": "seen on CCTV"}
    ),
    ("POST", "/api/v1/incidents/{incident_id}/dispatch"): Entry(
        {"call_handler": 201, "supervisor": 201}, body={"unit": "TC2"}
    ),
    ("POST", "/api/v1/incidents/{incident_id}/handoff"): Entry(
        {"call_handler": 201, "supervisor": 201}, body={"to": "nhs_111", "reference": "R1"}
    ),
    ("POST", "/api/v1/incidents/{incident_id}/close"): Entry(
        HANDLERS_AND_SUPERVISORS, body={"reason": "duplicate"}
    ),
    ("POST", "/api/v1/triage/preview"): Entry(HANDLERS_AND_SUPERVISORS, body=incident()),
    # Areas: admins manage them, supervisors read them.
    ("GET", "/api/v1/areas"): Entry({"admin": 200, "supervisor": 200}),
    ("POST", "/api/v1/areas"): Entry({"admin": 201}, body={"code": "elsewhere", "name": "x"}),
    ("PATCH", "/api/v1/areas/{code}"): Entry({"admin": 200}, body={"ack_timeout_seconds": 90}),
    # Units: everyone of the area sees them; a crew changes only its own.
    ("GET", "/api/v1/units"): Entry(every(200)),
    ("POST", "/api/v1/units"): Entry(
        {"admin": 201, "supervisor": 201},
        body={"callsign": "TC9", "kind": "triage_car", "status": "off_duty"},
    ),
    ("PATCH", "/api/v1/units/{callsign}"): Entry(
        {"crew": 200, "supervisor": 200}, body={"lat": 52.9, "lon": -1.1}
    ),
    # Assignments: the unit's own crew and supervisors; the desk reassigns.
    ("GET", "/api/v1/assignments"): Entry({"crew": 200, "nurse": 200, "supervisor": 200}),
    ("POST", "/api/v1/assignments/{assignment_id}/accept"): Entry({"crew": 200, "supervisor": 200}),
    ("POST", "/api/v1/assignments/{assignment_id}/decline"): Entry(
        {"crew": 200, "supervisor": 200}, body={"reason": "already committed"}
    ),
    ("POST", "/api/v1/assignments/{assignment_id}/status"): Entry(
        {"crew": 200, "supervisor": 200}, body={"status": "en_route"}
    ),
    ("POST", "/api/v1/assignments/{assignment_id}/advice"): Entry(
        {"nurse": 200, "supervisor": 200}, body={"advice": "Crisis team", "s136_used": False}
    ),
    ("POST", "/api/v1/assignments/{assignment_id}/reassign"): Entry(
        HANDLERS_AND_SUPERVISORS, body={"unit": "TC2"}
    ),
    # Places of safety: everyone of the area reads them; admins and supervisors manage them.
    ("GET", "/api/v1/places-of-safety"): Entry(every(200)),
    ("POST", "/api/v1/places-of-safety"): Entry(
        {"admin": 201, "supervisor": 201},
        body={"name": "QMC ED", "type": "emergency_department", "available_beds": 1},
    ),
    ("PATCH", "/api/v1/places-of-safety/{place_id}"): Entry(
        {"admin": 200, "supervisor": 200}, body={"available_beds": 3}
    ),
    # s136: the recording unit's crew and supervisors (the nurse desk reads when consulted).
    ("POST", S136): Entry({"crew": 201, "supervisor": 201}, body="detention"),
    ("GET", S136): Entry(READERS),
    ("POST", S136 + "/arrived"): Entry(RECORDERS, body="arrival"),
    ("POST", S136 + "/transfer"): Entry(RECORDERS, body="transfer"),
    ("POST", S136 + "/handover"): Entry(RECORDERS, body="handover"),
    ("POST", S136 + "/handover-agreement"): Entry(
        RECORDERS, body={"goal_minutes": 120, "agreed_by": "Ward manager", "reason": "No bed"}
    ),
    ("POST", S136 + "/assessment"): Entry(RECORDERS, body="now"),
    ("POST", S136 + "/extension"): Entry(RECORDERS, body="extension"),
    # Not at a police station: refused by the state (409) once access is granted.
    ("POST", S136 + "/welfare-check"): Entry({"crew": 409, "supervisor": 409}, body="welfare"),
    ("POST", S136 + "/outcome"): Entry(RECORDERS, body="outcome"),
    ("GET", "/api/v1/handovers"): Entry({"crew": 200, "nurse": 200, "supervisor": 200}),
    # Supervisors only.
    ("GET", "/api/v1/clocks"): Entry({"supervisor": 200}),
    ("GET", "/api/v1/escalations"): Entry({"supervisor": 200}),
    ("POST", "/api/v1/escalations/{escalation_id}/acknowledge"): Entry(
        {"supervisor": 200}, body={"action": "Asked TC2 to attend"}
    ),
    ("GET", "/api/v1/reports/s136"): Entry({"supervisor": 200}),
    ("GET", "/api/v1/reports/rcrp"): Entry({"supervisor": 200}),
    ("GET", "/api/v1/audit"): Entry({"supervisor": 200}, query="subject=incident:{incident_id}"),
    ("GET", "/api/v1/realtime/status"): Entry({"supervisor": 200, "admin": 200}),
}


def routes_of(routes: Any, prefix: str = "") -> Any:
    """Every route, with its full path: routers included in the app are walked into (FastAPI
    keeps them as included routers in `app.routes`)."""
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from routes_of(included.routes, prefix + route.include_context.prefix)
        else:
            yield prefix + route.path, route


def route_keys(app: Any) -> set[tuple[str, str]]:
    keys = set()
    for path, route in routes_of(app.routes):
        if isinstance(route, APIWebSocketRoute):
            keys.add(("WS", path))
        elif isinstance(route, Mount):
            keys.add(("MOUNT", path))
        elif isinstance(route, APIRoute | Route):
            keys |= {(method, path) for method in route.methods or () if method != "HEAD"}
        else:
            keys.add((type(route).__name__, path))
    return keys


def test_every_route_has_an_entry():
    routes = route_keys(create_app())
    missing = sorted(routes - set(MATRIX))
    assert not missing, f"routes with no entry in the access matrix: {missing}"
    stale = sorted(set(MATRIX) - routes)
    assert not stale, f"entries for routes that no longer exist: {stale}"


@pytest.fixture
async def world(client, supervisor, handler, admin, make_user, connect):
    """The area every request of the matrix meets (see the module's docstring)."""
    for callsign in ("TC1", "TC2"):
        await add_unit(client, supervisor, callsign)
    await add_unit(client, supervisor, "DESK1", kind="nurse_desk")
    await connect("TC1", "DESK1")  # TC2 signs in later: the second incident waits for a car
    people = {
        "call_handler": handler,
        "supervisor": supervisor,
        "admin": admin,
        "crew": await make_user("crew", unit="TC1"),
        "nurse": await make_user("nurse", unit="DESK1"),
    }
    place, other_place = await add_place(client, supervisor), await add_place(client, supervisor)

    taken = await new_incident(client, handler)  # TC1 takes it and detains the person
    accepted = offer_to(taken, "TC1")
    r = await client.post(f"/api/v1/assignments/{accepted}/accept", headers=people["crew"])
    assert r.status_code == 200, r.text
    await detain(client, people["crew"], taken["id"], place)
    arrived_at = minutes_ago(30)
    r = await client.post(
        f"{S136.format(incident_id=taken['id'])}/arrived",
        json={"at": arrived_at},
        headers=people["crew"],
    )
    assert r.status_code == 200, r.text

    waiting = await new_incident(client, handler)  # no car free: escalated, then forced to TC1
    escalations = (await client.get("/api/v1/escalations", headers=supervisor)).json()
    escalation = next(e["id"] for e in escalations if e["incident_id"] == waiting["id"])
    r = await client.post(
        f"/api/v1/incidents/{waiting['id']}/dispatch",
        json={"unit": "TC1", "force": True},
        headers=supervisor,
    )
    assert r.status_code == 201, r.text
    offered = r.json()["id"]

    asked = await new_incident(client, handler, **ADVICE_CALL)
    advice_job = offer_to(asked, "DESK1")
    r = await client.post(f"/api/v1/assignments/{advice_job}/accept", headers=people["nurse"])
    assert r.status_code == 200, r.text
    undetained = await new_incident(client, handler)
    await connect("TC2")

    taken_id, waiting_id = taken["id"], waiting["id"]
    targets = {
        ("GET", "/api/v1/incidents/{incident_id}"): {"incident_id": taken_id},
        ("POST", "/api/v1/incidents/{incident_id}/override"): {"incident_id": waiting_id},
        ("POST", "/api/v1/incidents/{incident_id}/dispatch"): {"incident_id": undetained["id"]},
        ("POST", "/api/v1/incidents/{incident_id}/handoff"): {"incident_id": waiting_id},
        ("POST", "/api/v1/incidents/{incident_id}/close"): {"incident_id": waiting_id},
        ("POST", S136): {"incident_id": undetained["id"]},
        ("GET", "/api/v1/audit"): {"incident_id": taken_id},
        ("POST", "/api/v1/assignments/{assignment_id}/accept"): {"assignment_id": offered},
        ("POST", "/api/v1/assignments/{assignment_id}/decline"): {"assignment_id": offered},
        ("POST", "/api/v1/assignments/{assignment_id}/status"): {"assignment_id": accepted},
        ("POST", "/api/v1/assignments/{assignment_id}/advice"): {"assignment_id": advice_job},
        ("POST", "/api/v1/assignments/{assignment_id}/reassign"): {"assignment_id": offered},
    }
    bodies = {
        "detention": detention(place),
        "arrival": {"at": arrived_at},  # the same arrival again: a retry
        "transfer": {"at": minutes_ago(10), "place_of_safety_id": other_place},
        "handover": {"at": minutes_ago(5), "received_by": "Charge nurse"},
        "now": {"at": minutes_ago(1)},
        "extension": {
            "at": minutes_ago(1),
            "hours": 6,
            "doctor": "Dr Okafor",
            "reason": "Too intoxicated to assess",
        },
        "welfare": {"at": minutes_ago(1), "by": "Custody nurse"},
        "outcome": {"at": minutes_ago(1), "outcome": "admitted_informally"},
    }
    defaults = {
        "incident_id": taken_id,
        "code": "default",
        "callsign": "TC1",
        "place_id": place,
        "escalation_id": escalation,
    }
    return {"people": people, "targets": targets, "bodies": bodies, "defaults": defaults}


async def test_each_role_gets_what_the_matrix_says(client, connection, world):
    mismatches = []
    for (method, path), entry in MATRIX.items():
        if entry.checked_elsewhere:
            continue
        params = {**world["defaults"], **world["targets"].get((method, path), {})}
        url = (MOUNTED_FILES[path] if method == "MOUNT" else path).format(**params)
        if entry.query:
            url += "?" + entry.query.format(**params)
        body = (
            world["bodies"].get(entry.body, entry.body)
            if isinstance(entry.body, str)
            else entry.body
        )
        for role in (NO_TOKEN, *ROLES):
            headers = world["people"].get(role, {})
            savepoint = await connection.begin_nested()
            try:
                response = await client.request(
                    "GET" if method == "MOUNT" else method,
                    url,
                    json=body if not entry.form else None,
                    # one made-up name per role, so the sign-in throttle does not answer instead
                    data={k: v.format(role=role) for k, v in entry.form.items()} or None,
                    headers=headers,
                )
            finally:
                await savepoint.rollback()
            if response.status_code != entry.expected(role):
                mismatches.append(
                    f"{method} {path} as {role}: {response.status_code}, expected "
                    f"{entry.expected(role)}: {response.text[:200]}"
                )
    assert not mismatches, "\n".join(mismatches)
