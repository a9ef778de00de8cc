"""Settings from the environment (and `.env`), read once."""

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    environment: Literal["dev", "prod"] = "dev"
    # postgresql+asyncpg://…; unset means an embedded PostgreSQL under data_dir.
    database_url: SecretStr | None = None
    # The owner's URL, for migrations, when the service connects as the restricted application
    # role (docs/security.md, "Database roles"); unset: migrations use DATABASE_URL.
    migration_database_url: SecretStr | None = None
    # The role migrations grant the service's privileges to: DML on every table but the audit,
    # which it may only read and append to.
    database_app_role: str = Field(default="street_triage_app", pattern=r"^[a-z_][a-z0-9_]{0,62}$")
    data_dir: Path = Path("./data")
    host: str = "127.0.0.1"
    port: int = 8000
    # HMAC key for access tokens; generated once into data_dir when unset.
    secret_key: SecretStr | None = None
    # The shift-long limit of a signed-in session (and its access token), fixed at sign-in.
    token_ttl_minutes: int = Field(default=12 * 60, ge=1, le=7 * 24 * 60)
    # A session unused for this long ends (an open websocket keeps it in use).
    session_idle_minutes: int = Field(default=60, ge=2, le=24 * 60)
    # Reverse proxies whose X-Forwarded-For / X-Forwarded-Proto are believed: comma-separated
    # addresses or networks (e.g. "10.0.0.5,10.1.0.0/16"). Empty: none, the peer is the client.
    trusted_proxies: str = ""
    max_body_bytes: int = 64 * 1024
    # Allowed clock skew for times entered by people and devices.
    future_skew_seconds: int = 120
    db_pool_size: int = 10

    # Live events and background work.
    instance_name: str = ""  # shown by /api/v1/realtime/status; defaults to host:pid
    ws_queue_size: int = Field(default=1000, ge=10)  # per subscriber; past it, disconnected
    ws_send_timeout_seconds: float = Field(default=10.0, gt=0)
    ws_ping_interval_seconds: float = Field(default=10.0, gt=0)  # protocol pings find dead peers
    # How often an open socket re-checks its session and account when no change was announced
    # (changes are announced at once on `triage_auth`; this is the fallback), and renews the
    # session's idle clock. At most a minute, so an open socket always keeps its session alive.
    ws_recheck_seconds: float = Field(default=60.0, gt=0, le=60)
    # how often each instance renews its crews' presence (offers need one within 30 s)
    presence_heartbeat_seconds: float = Field(default=10.0, gt=0, le=20)
    event_poll_seconds: float = Field(default=1.0, gt=0)  # fallback when a NOTIFY is missed
    worker_interval_seconds: float = Field(default=0.5, gt=0)  # timers: offer expiry, clocks
    event_retention_hours: int = Field(default=24, ge=24)


@lru_cache
def get_settings() -> Settings:
    return Settings()
