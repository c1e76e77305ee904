"""Configuration: defaults here, FENGLING_* environment variables over them, tests pass a dict."""

from __future__ import annotations

import secrets
from pathlib import Path

from server.storage.json_text import to_json

DEFAULT_DATA_DIR = Path.cwd() / "data"


class Config:
    """Defaults; every key can be overridden by FENGLING_<KEY> in the environment."""

    DATA_DIR: str = str(DEFAULT_DATA_DIR)
    DATABASE_URL: str | None = None  # default: SQLite file fengling.db in DATA_DIR
    SECRET_KEY: str | None = None  # default: generated once and kept in DATA_DIR
    SCHEMA_VERSION_MIN: int = 1
    SCHEMA_VERSION_MAX: int = 1
    PUSH_MAX_MUTATIONS: int = 500
    PUSH_MAX_BYTES: int = 5 * 1024 * 1024
    # Pushes of one process waiting for the write turn go in one transaction, this many at
    # most (server.web.api.push_group): a group's transaction stays short.
    PUSH_GROUP_MAX_REQUESTS: int = 32
    PULL_DEFAULT_LIMIT: int = 500
    PULL_MAX_LIMIT: int = 1000
    BLOB_MAX_BYTES: int = 10 * 1024 * 1024
    # A phone's exported unsent work imported at the console: its intents within the push
    # limit (PUSH_MAX_BYTES), the rest photos not yet uploaded, as base64.
    UNSENT_IMPORT_MAX_BYTES: int = 64 * 1024 * 1024
    # Per username and address (server.accounts.login_limits): after LOGIN_MAX_FAILURES
    # failures in a row (a quiet window forgets them), each further check waits
    # LOGIN_FIRST_DELAY_SECONDS, then twice as long after each failure, at most the window.
    LOGIN_MAX_FAILURES: int = 5
    LOGIN_WINDOW_SECONDS: int = 15 * 60
    LOGIN_FIRST_DELAY_SECONDS: int = 1
    LOCK_TIMEOUT_MS: int = 10_000  # waiting for the write lock longer than this answers 503
    DEVICE_SEEN_THROTTLE_SECONDS: int = 60
    # A phone's token ends after this many days without a push or pull (its last contact)...
    DEVICE_TOKEN_IDLE_DAYS: int = 30
    # ...and this many days after its sign-in however much it is used: a stolen token works
    # for half a year at most, while a worker types the password twice a year (docs/security.md).
    DEVICE_TOKEN_MAX_DAYS: int = 180
    TRUST_PROXY_HEADERS: bool = False  # True behind a reverse proxy that sets X-Forwarded-*
    ROLLUP_DAYS: int = 2  # today and yesterday, in the alliance's time zone
    COMPACT_HORIZON_DAYS: int = 180  # longer than any phone stays offline with unsent work
    BACKUP_KEEP: int = 7  # newest backups kept in DATA_DIR/backups
    CONSOLE_SESSION_HOURS: int = 12  # a console sign-in lasts one working day
    CONSOLE_COOKIE_SECURE: bool = False  # cookies are Secure over HTTPS anyway; True forces it
    CONSOLE_STALE_DAYS: int = 3  # devices not synced for longer are highlighted
    CONSOLE_PAGE_SIZE: int = 50


def normalise_database_url(url: str) -> str:
    """Use the psycopg 3 driver for plain postgresql:// URLs."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def finalise(config: dict) -> None:
    """Derive what depends on other keys: data directory, database URL, secret key."""
    data_dir = Path(config["DATA_DIR"]).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "blobs").mkdir(exist_ok=True)
    config["DATA_DIR"] = str(data_dir)
    url = config.get("DATABASE_URL") or f"sqlite:///{data_dir / 'fengling.db'}"
    config["DATABASE_URL"] = normalise_database_url(url)
    config["SQLALCHEMY_DATABASE_URI"] = config["DATABASE_URL"]
    options = config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {})
    # JSON columns keep Chinese as text, so the console's search finds party names.
    options.setdefault("json_serializer", to_json)
    if config["DATABASE_URL"].startswith("postgresql"):
        timeout = int(config["LOCK_TIMEOUT_MS"])
        config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {}).setdefault(
            "connect_args", {"options": f"-c lock_timeout={timeout}"}
        )
    if not config.get("SECRET_KEY"):
        config["SECRET_KEY"] = _kept_secret(data_dir / "secret_key")


def _kept_secret(path: Path) -> str:
    """Generate the secret key once and keep it, so sessions survive restarts."""
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()
