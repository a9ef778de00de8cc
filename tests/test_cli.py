"""The command line, run as a user would: `python -m app migrate | user add | demo`."""

import asyncio
import os
import subprocess
import sys

import httpx
import pytest

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


def sign_in(env, username, password):
    """Sign in through the application, on the database the command line wrote to."""

    async def go():
        settings = Settings(secret_key="x" * 40, data_dir=env["DATA_DIR"])
        app = create_app(settings, database_url=env["DATABASE_URL"])
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                return await client.post(
                    "/api/v1/auth/token", data={"username": username, "password": password}
                )

    return asyncio.run(go())


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
    assert short.returncode != 0
    bad_role = run(cli_env, "user", "add", "yan", "--role", "chief", stdin="long-enough-pw\n")
    assert bad_role.returncode != 0
    crew = run(cli_env, "user", "add", "yan", "--role", "crew", stdin="long-enough-pw\n")
    assert crew.returncode != 0 and "unit" in crew.stderr


def test_demo_prints_working_credentials(cli_env):
    result = run(cli_env, "demo")
    assert result.returncode == 0, result.stderr
    lines = [line.split() for line in result.stdout.splitlines() if line.startswith("  ")]
    roles = {parts[0] for parts in lines}
    assert {"call_handler", "crew", "nurse", "supervisor", "admin"} <= roles
    role, username, password, *_ = lines[0]
    assert sign_in(cli_env, username, password).json()["role"] == role


def test_demo_refuses_in_production(cli_env):
    result = run({**cli_env, "ENVIRONMENT": "prod"}, "demo")
    assert result.returncode != 0
