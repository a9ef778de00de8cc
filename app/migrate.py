"""Apply the Alembic migrations from code (used by `python -m app migrate`, serve and tests).

Migrations run as the database owner: `MIGRATION_DATABASE_URL` when set (production: the service
itself connects as the restricted application role named by `DATABASE_APP_ROLE`), else
`DATABASE_URL` (dev, embedded: one role for everything). See docs/security.md.
"""

from pathlib import Path

from alembic import command
from alembic.config import Config

from app.config import Settings
from app.database import resolve_database_url, to_async_url

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def alembic_config(database_url: str, *, app_role: str | None = None) -> Config:
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.attributes["database_url"] = database_url
    if app_role is not None:
        config.attributes["app_role"] = app_role
    return config


def upgrade(database_url: str, revision: str = "head", *, app_role: str | None = None) -> None:
    command.upgrade(alembic_config(database_url, app_role=app_role), revision)


def downgrade(database_url: str, revision: str = "base", *, app_role: str | None = None) -> None:
    command.downgrade(alembic_config(database_url, app_role=app_role), revision)


def migrate(settings: Settings) -> str:
    """Bring the schema to head as the owner; return the URL the service connects with."""
    service_url = resolve_database_url(settings)
    owner_url = (
        to_async_url(settings.migration_database_url.get_secret_value())
        if settings.migration_database_url is not None
        else service_url
    )
    upgrade(owner_url, app_role=settings.database_app_role)
    return service_url
