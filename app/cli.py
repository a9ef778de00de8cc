"""What the command line does against the database (see app/__main__.py)."""

import secrets

from sqlalchemy import select

from app.database import create_engine, create_sessionmaker
from app.models import Area, PlaceOfSafety, Unit
from app.services.users import upsert_user

# Around Nottingham: two triage cars, the nurse desk, and the places of safety they use.
DEMO_UNITS = [
    (
        "TC1",
        "triage_car",
        52.9548,
        -1.1581,
        [("PC Amir Shah", "officer"), ("RMN Jo Bell", "nurse")],
    ),
    (
        "TC2",
        "triage_car",
        52.9225,
        -1.1266,
        [("PC Kim Reid", "officer"), ("RMN Sam Okafor", "nurse")],
    ),
    ("NURSE1", "nurse_desk", None, None, [("RMN Priya Das", "nurse")]),
]
# name, type, beds, accepts under 18s, exclusions, lat, lon
DEMO_PLACES = [
    (
        "Highbury Hospital s136 suite",
        "health_based_place_of_safety",
        2,
        False,
        "Not for people who need medical treatment first: go to the ED.",
        53.0003,
        -1.1734,
    ),
    ("Queen's Medical Centre ED", "emergency_department", 4, True, None, 52.9436, -1.1857),
    (
        "Hopewood CAMHS place of safety",
        "health_based_place_of_safety",
        1,
        True,
        "Under 18s only.",
        53.0139,
        -1.1262,
    ),
    (
        "Bridewell custody suite",
        "police_station",
        0,
        False,
        "Exceptional circumstances only, inspector's authority (S4); never under 18 (S3).",
        52.9508,
        -1.1426,
    ),
]
DEMO_USERS = [
    ("handler1", "call_handler", None),
    ("crew-tc1", "crew", "TC1"),
    ("crew-tc2", "crew", "TC2"),
    ("nurse1", "nurse", "NURSE1"),
    ("supervisor1", "supervisor", None),
    ("admin1", "admin", None),
]


async def add_user(
    url: str, username: str, password: str, *, role: str, unit: str | None, area: str
) -> None:
    engine = create_engine(url, pool_size=1)
    try:
        async with create_sessionmaker(engine)() as session, session.begin():
            await upsert_user(username, password, session=session, role=role, unit=unit, area=area)
    finally:
        await engine.dispose()


async def load_demo(url: str) -> list[str]:
    """Demo users in the `default` area, each with a fresh random password. Returns the lines to
    print. Only ever run on request (`python -m app demo`)."""
    lines = [
        "demo data loaded in area 'default': units TC1, TC2 (triage cars), NURSE1 (nurse desk),",
        f"{len(DEMO_PLACES)} places of safety; sign in at http://127.0.0.1:8000/ with:",
    ]
    engine = create_engine(url, pool_size=1)
    try:
        async with create_sessionmaker(engine)() as session, session.begin():
            area = await session.scalar(select(Area).where(Area.code == "default"))
            assert area is not None
            for callsign, kind, lat, lon, crew in DEMO_UNITS:
                if await session.scalar(select(Unit.id).where(Unit.callsign == callsign)) is None:
                    session.add(
                        Unit(
                            callsign=callsign,
                            kind=kind,
                            area_id=area.id,
                            status="available",
                            lat=lat,
                            lon=lon,
                            crew=[{"name": n, "role": r} for n, r in crew],
                            active_assignments=0,
                        )
                    )
            for name, kind, beds, under_18, exclusions, lat, lon in DEMO_PLACES:
                if (
                    await session.scalar(select(PlaceOfSafety.id).where(PlaceOfSafety.name == name))
                    is None
                ):
                    session.add(
                        PlaceOfSafety(
                            area_id=area.id,
                            name=name,
                            type=kind,
                            available_beds=beds,
                            accepts_under_18=under_18,
                            exclusions=exclusions,
                            lat=lat,
                            lon=lon,
                        )
                    )
            for username, role, unit in DEMO_USERS:
                password = secrets.token_urlsafe(9)
                await upsert_user(username, password, session=session, role=role, unit=unit)
                suffix = f"  unit {unit}" if unit else ""
                lines.append(f"  {role:<13} {username:<12} {password}{suffix}")
    finally:
        await engine.dispose()
    return lines
