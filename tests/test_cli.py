"""The command line, run as a user would: `python -m app migrate | user add | demo`."""

import asyncio
import os
import subprocess
import sys

import httpx
import pytest

from app.auth.password_policy import check_password_policy
from app.config import Settings
from app.main import create_app
from tests import db


@pytest.fixture
def cli_env(server_url, tmp_path):
    name = db.create_database(server_url, prefix="triage_cli")
    env = {
        **os.environ,
        "DATABASE_URL": db.with_database(server_url, name),
        "DATA_DIR": str(tmp_path),
        "ENVIRONMENT": "dev",
    }
    yield env
    db.drop_database(server_url, name)


def run(env, *args, stdin=""):
    return subprocess.run(
        [sys.executable, "-m", "app", *args],
        input=stdin,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def against_the_app(env, *requests):
    """Send requests through the application, on the database the command line wrote to:
    each is (method, path, keyword arguments), or a function of the previous response."""

    async def go():
        settings = Settings(secret_key="x" * 40, data_dir=env["DATA_DIR"])
        app = create_app(settings, database_url=env["DATABASE_URL"])
        answers = []
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                for request in requests:
                    method, path, kwargs = request(answers[-1]) if callable(request) else request
                    answers.append(await client.request(method, path, **kwargs))
        return answers

    return asyncio.run(go())


def sign_in(env, username, password):
    form = {"data": {"username": username, "password": password}}
    return against_the_app(env, ("POST", "/api/v1/auth/token", form))[0]


def bearer(answer):
    return {"headers": {"Authorization": f"Bearer {answer.json()['access_token']}"}}


def test_migrate_user_add_and_sign_in(cli_env):
    assert run(cli_env, "migrate").returncode == 0
    added = run(cli_env, "user", "add", "zoe", "--role", "supervisor", stdin="s3cret-passphrase\n")
    assert added.returncode == 0, added.stderr
    response = sign_in(cli_env, "zoe", "s3cret-passphrase")
    assert response.status_code == 200, response.text
    assert response.json()["role"] == "supervisor"
    assert sign_in(cli_env, "zoe", "wrong").status_code == 401


def test_user_add_refuses_bad_input(cli_env):
    short = run(cli_env, "user", "add", "yan", "--role", "supervisor", stdin="short\n")
    assert short.returncode != 0 and "at least 12" in short.stderr
    bad_role = run(cli_env, "user", "add", "yan", "--role", "chief", stdin="long-enough-pw\n")
    assert bad_role.returncode != 0
    crew = run(cli_env, "user", "add", "yan", "--role", "crew", stdin="long-enough-pw\n")
    assert crew.returncode != 0 and "unit" in crew.stderr


@pytest.mark.parametrize("password", ["password1234", "Password123!", "qwerty123456789"])
def test_user_add_refuses_common_passwords(cli_env, password):
    added = run(cli_env, "user", "add", "yan", "--role", "supervisor", stdin=f"{password}\n")
    assert added.returncode != 0 and "too common" in added.stderr
    assert sign_in(cli_env, "yan", password).status_code == 401


def test_user_add_refuses_a_crew_for_a_unit_that_does_not_exist(cli_env):
    crew = run(
        cli_env,
        "user",
        "add",
        "yan",
        "--role",
        "crew",
        "--unit",
        "TC404",
        stdin="long-enough-pw\n",
    )
    assert crew.returncode != 0 and "no unit 'TC404'" in crew.stderr
    assert run(cli_env, "demo").returncode == 0  # makes TC1 in the default area
    crew = run(
        cli_env, "user", "add", "yan", "--role", "crew", "--unit", "TC1", stdin="long-enough-pw\n"
    )
    assert crew.returncode == 0, crew.stderr


def test_user_add_refuses_an_existing_name_unless_told_to_reset(cli_env):
    added = run(cli_env, "user", "add", "ann", "--role", "admin", stdin="first-passphrase-1\n")
    assert added.returncode == 0, added.stderr
    again = run(
        cli_env, "user", "add", "ann", "--role", "supervisor", stdin="second-passphrase-2\n"
    )
    assert again.returncode != 0 and "already exists" in again.stderr and "--reset" in again.stderr
    first = sign_in(cli_env, "ann", "first-passphrase-1")
    assert first.json()["role"] == "admin"  # untouched
    reset = run(
        cli_env,
        *("user", "add", "ann", "--role", "supervisor", "--reset"),
        stdin="second-passphrase-2\n",
    )
    assert reset.returncode == 0 and "reset" in reset.stdout
    assert sign_in(cli_env, "ann", "first-passphrase-1").status_code == 401
    assert sign_in(cli_env, "ann", "second-passphrase-2").json()["role"] == "supervisor"
    # The reset ended the session signed in with the old password.
    old = against_the_app(cli_env, ("GET", "/api/v1/areas", bearer(first)))[0]
    assert old.status_code == 401


def test_disable_and_reset_password_end_the_accounts_sessions(cli_env):
    password = "first-passphrase-1"
    added = run(cli_env, "user", "add", "bea", "--role", "supervisor", stdin=f"{password}\n")
    assert added.returncode == 0, added.stderr
    signed_in = sign_in(cli_env, "bea", password)
    assert (
        against_the_app(cli_env, ("GET", "/api/v1/areas", bearer(signed_in)))[0].status_code == 200
    )

    weak = run(cli_env, "user", "reset-password", "bea", stdin="letmein123456\n")
    assert weak.returncode != 0 and "too common" in weak.stderr
    reset = run(cli_env, "user", "reset-password", "bea", stdin="second-passphrase-2\n")
    assert reset.returncode == 0, reset.stderr
    assert "1 open session(s) ended" in reset.stdout
    assert (
        against_the_app(cli_env, ("GET", "/api/v1/areas", bearer(signed_in)))[0].status_code == 401
    )
    assert sign_in(cli_env, "bea", password).status_code == 401

    again = sign_in(cli_env, "bea", "second-passphrase-2")
    disabled = run(cli_env, "user", "disable", "bea")
    assert disabled.returncode == 0 and "1 open session(s) ended" in disabled.stdout
    assert against_the_app(cli_env, ("GET", "/api/v1/areas", bearer(again)))[0].status_code == 401
    assert sign_in(cli_env, "bea", "second-passphrase-2").status_code == 401
    missing = run(cli_env, "user", "disable", "nobody")
    assert missing.returncode != 0 and "no user" in missing.stderr


def test_demo_prints_working_credentials(cli_env):
    result = run(cli_env, "demo")
    assert result.returncode == 0, result.stderr
    lines = [line.split() for line in result.stdout.splitlines() if line.startswith("  ")]
    roles = {parts[0] for parts in lines}
    assert {"call_handler", "crew", "nurse", "supervisor", "admin"} <= roles
    for _role, username, password, *_ in lines:  # every printed password passes the policy
        check_password_policy(password, username=username)
    role, username, password, *_ = lines[0]
    assert sign_in(cli_env, username, password).json()["role"] == role
    again = run(cli_env, "demo")  # loading it again gives new passwords that work
    assert again.returncode == 0, again.stderr
    role, username, password, *_ = next(
        line.split() for line in again.stdout.splitlines() if line.startswith("  ")
    )
    assert sign_in(cli_env, username, password).json()["role"] == role


def test_demo_refuses_in_production(cli_env):
    result = run({**cli_env, "ENVIRONMENT": "prod"}, "demo")
    assert result.returncode != 0
