"""What the command line does against the database (see app/__main__.py)."""

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.password_policy import WeakPassword, check_password_policy
from app.database import create_engine, create_sessionmaker
from app.models import Area, PlaceOfSafety, Unit
from app.services import users

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


@asynccontextmanager
async def _transaction(url: str) -> AsyncIterator[AsyncSession]:
    engine = create_engine(url, pool_size=1)
    try:
        async with create_sessionmaker(engine)() as session, session.begin():
            yield session
    finally:
        await engine.dispose()


async def add_user(
    url: str,
    username: str,
    password: str,
    *,
    role: str,
    unit: str | None,
    area: str,
    reset: bool = False,
) -> bool:
    """Returns whether an existing account was reset (rather than a new one created)."""
    async with _transaction(url) as session:
        existed = await users.find_by_username(username, session=session) is not None
        await users.add_user(
            username,
            password,
            session=session,
            role=role,
            unit=unit,
            area=area,
            reset=reset,
            now=datetime.now(UTC),
        )
    return existed


async def disable_user(url: str, username: str) -> int:
    async with _transaction(url) as session:
        return await users.disable_user(username, session=session, now=datetime.now(UTC))


async def reset_password(url: str, username: str, password: str) -> int:
    async with _transaction(url) as session:
        return await users.reset_password(
            username, password, session=session, now=datetime.now(UTC)
        )


def demo_password(username: str) -> str:
    """A random password that passes the policy (almost every draw does)."""
    while True:
        password = secrets.token_urlsafe(12)
        try:
            check_password_policy(password, username=username)
        except WeakPassword:
            continue
        return password


async def load_demo(url: str) -> list[str]:
    """Demo users in the `default` area, each with a fresh random password. Returns the lines to
    print. Only ever run on request (`python -m app demo`)."""
    lines = [
        "demo data loaded in area 'default': units TC1, TC2 (triage cars), NURSE1 (nurse desk),",
        f"{len(DEMO_PLACES)} places of safety; sign in at http://127.0.0.1:8000/ with:",
    ]
    async with _transaction(url) as session:
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
        await session.flush()  # the units, which crew accounts must find
        for username, role, unit in DEMO_USERS:
            password = demo_password(username)
            # Loading the demo again gives its users new passwords (and signs them out).
            await users.add_user(
                username,
                password,
                session=session,
                role=role,
                unit=unit,
                reset=True,
                now=datetime.now(UTC),
            )
            suffix = f"  unit {unit}" if unit else ""
            lines.append(f"  {role:<13} {username:<12} {password}{suffix}")
    return lines
