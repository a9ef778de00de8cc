"""Command line: `python -m app migrate | serve | user add|disable|reset-password | demo`."""

import argparse
import asyncio
import copy
import getpass
import logging
import sys
from typing import Any

from app.config import get_settings


def _migrate() -> str:
    """Migrate as the owner (MIGRATION_DATABASE_URL, else DATABASE_URL); the service's URL."""
    from app.migrate import migrate

    return migrate(get_settings())


def cmd_migrate(_: argparse.Namespace) -> int:
    _migrate()
    print("database is at the latest migration")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from app.main import create_app

    settings = get_settings()
    url = _migrate()
    port = args.port or settings.port
    print(f"serving on http://{settings.host}:{port}  (API docs at /docs)", flush=True)
    trusted_proxies = settings.trusted_proxies.strip()
    uvicorn.run(
        create_app(settings, database_url=url),
        host=settings.host,
        port=port,
        # X-Forwarded-For and -Proto are believed only from the proxies named; with none, the
        # peer is the client (uvicorn would otherwise trust any proxy on this machine).
        proxy_headers=bool(trusted_proxies),
        forwarded_allow_ips=trusted_proxies or None,
        log_config=uvicorn_log_config(),
        timeout_graceful_shutdown=10,
        ws_ping_interval=settings.ws_ping_interval_seconds,
        ws_ping_timeout=settings.ws_ping_interval_seconds,
        ws_max_size=64 * 1024,  # a bigger frame closes the socket with 1009 (message too big)
        server_header=False,  # no `server: uvicorn`
        log_level="info",
    )
    return 0


def uvicorn_log_config() -> dict[str, Any]:
    """uvicorn's logging, with secrets in URLs (`?ticket=`, a stray `?token=`) redacted from
    its access and connection lines."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["filters"] = {"redact": {"()": "app.auth.log_redaction.RedactUrlSecrets"}}
    for handler in config["handlers"].values():
        handler["filters"] = ["redact"]
    return config


def _read_password() -> str:
    """The new password, from the terminal (asked twice) or the first line of standard input.
    The policy is checked where the account is changed (app/services/users.py)."""
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    password = getpass.getpass("password: ")
    if getpass.getpass("password again: ") != password:
        raise SystemExit("error: the two passwords differ")
    return password


def _run_account_command(command: Any) -> Any:
    from app.errors import AppError

    try:
        return asyncio.run(command)
    except (ValueError, AppError) as exc:
        raise SystemExit(f"error: {exc}") from exc


def cmd_user_add(args: argparse.Namespace) -> int:
    from app.cli import add_user

    url = _migrate()
    password = _read_password()
    existed = _run_account_command(
        add_user(
            url,
            args.username,
            password,
            role=args.role,
            unit=args.unit,
            area=args.area,
            reset=args.reset,
        )
    )
    done = "reset and signed out everywhere" if existed else "added"
    print(f"user {args.username} ({args.role}) {done}")
    return 0


def cmd_user_disable(args: argparse.Namespace) -> int:
    from app.cli import disable_user

    revoked = _run_account_command(disable_user(_migrate(), args.username))
    print(f"user {args.username} disabled; {revoked} open session(s) ended")
    return 0


def cmd_user_reset_password(args: argparse.Namespace) -> int:
    from app.cli import reset_password

    url = _migrate()
    password = _read_password()
    revoked = _run_account_command(reset_password(url, args.username, password))
    print(f"password of {args.username} reset; {revoked} open session(s) ended")
    return 0


def cmd_demo(_: argparse.Namespace) -> int:
    from app.cli import load_demo

    settings = get_settings()
    if settings.environment == "prod":
        raise SystemExit("refusing to load demo data with ENVIRONMENT=prod")
    url = _migrate()
    for line in asyncio.run(load_demo(url)):
        print(line)
    return 0


def main(argv: list[str] | None = None) -> int:
    from app.auth.log_redaction import RedactUrlSecrets
    from app.models.user import ROLES

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    for handler in logging.getLogger().handlers:
        handler.addFilter(RedactUrlSecrets())
    parser = argparse.ArgumentParser(prog="python -m app")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("migrate", help="apply database migrations").set_defaults(run=cmd_migrate)
    serve = commands.add_parser("serve", help="migrate, then serve HTTP and websockets")
    serve.add_argument("--port", type=int, default=None)
    serve.set_defaults(run=cmd_serve)
    user = commands.add_parser("user", help="manage users").add_subparsers(
        dest="action", required=True
    )
    add = user.add_parser("add", help="add a user; the password is read from standard input")
    add.add_argument("username")
    add.add_argument("--role", required=True, choices=ROLES)
    add.add_argument("--unit", default=None, help="callsign of the unit a crew account is bound to")
    add.add_argument("--area", default="default", help="area code (default: default)")
    add.add_argument(
        "--reset",
        action="store_true",
        help="if the user exists, replace its password, role, area and unit, enable it, and "
        "end its sessions (without this, an existing name is refused)",
    )
    add.set_defaults(run=cmd_user_add)
    disable = user.add_parser("disable", help="disable a user and end all of its sessions")
    disable.add_argument("username")
    disable.set_defaults(run=cmd_user_disable)
    reset = user.add_parser(
        "reset-password",
        help="set a new password (read from standard input) and end all of the user's sessions",
    )
    reset.add_argument("username")
    reset.set_defaults(run=cmd_user_reset_password)
    commands.add_parser("demo", help="load a demo area, units and users").set_defaults(run=cmd_demo)
    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
