"""The database roles tests use: the service runs as the restricted application role (it may
not change or erase the audit); migrations and test set-up run as the owner."""

from sqlalchemy.engine import make_url

from app.config import get_settings

APP_ROLE = get_settings().database_app_role


def as_app_role(url: str) -> str:
    """The same database, as the application role (trust or peer authentication in tests)."""
    return make_url(url).set(username=APP_ROLE, password=None).render_as_string(hide_password=False)
