"""Command line: `python -m app migrate | serve | user add | demo`."""

import argparse
import asyncio
import getpass
import logging
import sys

from app.config import get_settings
from app.database import resolve_database_url


def _migrate() -> str:
    from app.migrate import upgrade

    url = resolve_database_url(get_settings())
    upgrade(url)
    return url


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
    uvicorn.run(
        create_app(settings, database_url=url),
        host=settings.host,
        port=port,
        proxy_headers=True,
        timeout_graceful_shutdown=10,
        ws_ping_interval=settings.ws_ping_interval_seconds,
        ws_ping_timeout=settings.ws_ping_interval_seconds,
        ws_max_size=64 * 1024,  # a bigger frame closes the socket with 1009 (message too big)
        server_header=False,  # no `server: uvicorn`
        log_level="info",
    )
    return 0


def _read_password() -> str:
    if sys.stdin.isatty():
        password = getpass.getpass("password: ")
    else:
        password = sys.stdin.readline().rstrip("\n")
    if len(password) < 8:
        raise SystemExit("the password must be at least 8 characters")
    return password


def cmd_user_add(args: argparse.Namespace) -> int:
    from app.cli import add_user
    from app.errors import AppError

    url = _migrate()
    password = _read_password()
    try:
        asyncio.run(
            add_user(url, args.username, password, role=args.role, unit=args.unit, area=args.area)
        )
    except (ValueError, AppError) as exc:
        raise SystemExit(f"error: {exc}") from exc
    print(f"user {args.username} ({args.role}) added")
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
    from app.models.user import ROLES

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
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
    add.set_defaults(run=cmd_user_add)
    commands.add_parser("demo", help="load a demo area, units and users").set_defaults(run=cmd_demo)
    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
