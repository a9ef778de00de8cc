"""Accounts: the password policy, adding without silently resetting, units that must exist,
and disabling or resetting an account ending its sessions (the command line's services)."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from app.auth.password_policy import WeakPassword, check_password_policy
from app.auth.passwords import verify_password
from app.models import Area, AuditEntry, Unit
from app.services import user_sessions, users
from app.services.users import AccountError
from tests.accounts import make_account

GOOD = "plover-lantern-quarry-9"


@pytest.mark.parametrize(
    ("password", "why"),
    [
        ("short-pw-1", "at least 12"),
        ("password1234", "too common"),
        ("Password123!", "too common"),
        ("qwertyuiop123", "too common"),
        ("iloveyou12345", "too common"),
        ("aaaaaaaaaaaaaaaa", "too common"),
        ("nottingham12345", "too common"),
        ("x" * 129, "at most 128"),
        ("tab\tinside-a-long-password", "control characters"),
        ("jsmith-correct-horse", "username"),
    ],
)
def test_weak_and_common_passwords_are_refused(password, why):
    with pytest.raises(WeakPassword, match=why):
        check_password_policy(password, username="jsmith")


@pytest.mark.parametrize(
    "password",
    [GOOD, "correct horse battery", "Tr1age-car-night-shift", "é" * 4 + "-ümlaut-ß-9" * 2],
)
def test_strong_passwords_pass(password):
    check_password_policy(password, username="jsmith")


def test_a_long_passphrase_is_scored_on_its_first_72_characters():
    check_password_policy("plover lantern quarry " * 5, username="jsmith")  # 110 characters
    with pytest.raises(WeakPassword):
        check_password_policy("a" * 100, username="jsmith")


def now() -> datetime:
    return datetime.now(UTC)


async def add(session, username="ann", password=GOOD, **kwargs):
    kwargs.setdefault("role", "supervisor")
    return await users.add_user(username, password, session=session, now=now(), **kwargs)


async def test_add_refuses_weak_passwords(session):
    with pytest.raises(WeakPassword):
        await add(session, password="password1234")
    assert await users.find_by_username("ann", session=session) is None


async def test_add_refuses_an_existing_name_unless_told_to_reset(session):
    first = await add(session, role="call_handler")
    opened = await user_sessions.open_session(
        first.id, session=session, now=now(), ttl=user_sessions.KEEP_ENDED_SESSIONS, client_ip=None
    )
    with pytest.raises(AccountError, match="already exists"):
        await add(session, password="another-passphrase-77", role="admin")
    assert first.role == "call_handler" and verify_password(GOOD, first.password_hash)
    assert opened.revoked_at is None
    reset = await add(session, password="another-passphrase-77", role="admin", reset=True)
    assert reset.id == first.id and reset.role == "admin"
    assert verify_password("another-passphrase-77", reset.password_hash)
    await session.refresh(opened)
    assert opened.revoked_reason == "account_reset"  # the old sign-ins end


async def test_a_crew_or_nurse_unit_must_exist_in_the_area(session, client, admin):
    with pytest.raises(AccountError, match="unit"):
        await add(session, "eve", role="crew")  # no unit at all
    with pytest.raises(AccountError, match="no unit 'TC9'"):
        await add(session, "eve", role="crew", unit="TC9")
    await client.post("/api/v1/areas", json={"code": "north", "name": "North"}, headers=admin)
    session.add(Unit(callsign="TC9", kind="triage_car", area_id=await _area_id(session, "north")))
    await session.flush()
    with pytest.raises(AccountError, match="no unit 'TC9' in area 'default'"):
        await add(session, "eve", role="crew", unit="TC9")
    crew = await add(session, "eve", role="crew", unit="TC9", area="north")
    assert crew.unit_callsign == "TC9"
    with pytest.raises(AccountError, match="no unit 'DESK9'"):
        await add(session, "nia", role="nurse", unit="DESK9")
    with pytest.raises(AccountError, match="only crew and nurse"):
        await add(session, "sam", role="supervisor", unit="TC9", area="north")


async def _area_id(session, code: str) -> int:
    return await session.scalar(select(Area.id).where(Area.code == code))


@pytest.mark.parametrize("username", ["", "a b", "(command line)", "x" * 81, "ann\n", "-ann"])
async def test_usernames_are_plain(session, username):
    with pytest.raises(AccountError, match="username"):
        await add(session, username)


async def test_disable_and_reset_password_end_every_session(session):
    user = await make_account(session, "zed", "supervisor", password=GOOD)
    other = await make_account(session, "yan", "supervisor", password=GOOD)
    sessions = [
        await user_sessions.open_session(
            account.id,
            session=session,
            now=now(),
            ttl=user_sessions.KEEP_ENDED_SESSIONS,
            client_ip=None,
        )
        for account in (user, user, other)
    ]
    assert await users.reset_password("zed", "fresh-passphrase-42", session=session, now=now()) == 2
    for opened in sessions:
        await session.refresh(opened)
    assert [s.revoked_reason for s in sessions] == ["password_reset", "password_reset", None]
    assert verify_password("fresh-passphrase-42", user.password_hash)
    assert user.password_changed_at is not None and user.active
    with pytest.raises(WeakPassword):
        await users.reset_password("zed", "letmein12345", session=session, now=now())

    again = await user_sessions.open_session(
        user.id, session=session, now=now(), ttl=user_sessions.KEEP_ENDED_SESSIONS, client_ip=None
    )
    assert await users.disable_user("zed", session=session, now=now()) == 1
    await session.refresh(again)
    assert again.revoked_reason == "disabled" and not user.active
    with pytest.raises(AccountError, match="no user"):
        await users.disable_user("nobody", session=session, now=now())
    await session.flush()
    audit = (
        await session.scalars(
            select(AuditEntry).where(AuditEntry.subject_id == str(user.id)).order_by(AuditEntry.id)
        )
    ).all()
    assert [(a.action, a.actor_username, a.detail["sessions_revoked"]) for a in audit] == [
        ("user.password_reset", "(command line)", 2),
        ("user.disabled", "(command line)", 1),
    ]
    assert all(GOOD not in str(a.detail) and "fresh" not in str(a.detail) for a in audit)
