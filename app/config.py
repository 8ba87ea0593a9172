"""Configuration read from environment variables, with safe defaults for the embedded mode."""

import importlib
import os
import re
import secrets
import stat
from datetime import timedelta
from pathlib import Path

from sqlalchemy.engine import make_url

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# A production SECRET_KEY signs sessions, remember cookies and CSRF tokens: anyone who can guess
# it can forge them. Keys are compared lower-case with anything but letters and digits removed.
MIN_SECRET_KEY_LENGTH = 32
WEAK_SECRET_KEYS = {
    "dev",
    "development",
    "secret",
    "secretkey",
    "changeme",
    "changethis",
    "default",
    "test",
    "testing",
    "password",
    "insecure",
    "mysecretkey",
    "yoursecretkey",
    "yoursecretkeyhere",
    "supersecret",
    "supersecretkey",
}
WEAK_SECRET_KEY_PARTS = ("changeme", "changethis", "replaceme", "yoursecret", "placeholder")


class ConfigError(RuntimeError):
    """The environment does not describe a configuration the app can safely start with."""


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, value: str | None, default: int) -> int:
    if value is None or value.strip() == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {value!r}") from None
    if number < 0:
        raise ConfigError(f"{name} must be 0 or more, not {number}")
    return number


def make_private(path: Path) -> None:
    """Take group and other permissions off ``path`` (0700 folders, 0600 files) if it is ours.

    The instance folder, the SQLite database and uploads hold personal data and password
    hashes; other local users have no business reading them.
    """
    try:
        info = path.stat()
    except FileNotFoundError:
        return
    mode = stat.S_IMODE(info.st_mode)
    if info.st_uid == os.geteuid() and mode & 0o077:
        path.chmod(mode & ~0o077)


def private_dir(path: Path) -> Path:
    """Create ``path`` (and missing parents) if needed; the folder itself is 0700."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    make_private(path)
    return path


def _instance_secret(instance_dir: Path) -> str:
    """A random key kept in the instance folder, so development sessions survive restarts."""
    private_dir(instance_dir)
    path = instance_dir / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def normalize_database_url(url: str) -> str:
    """PostgreSQL URLs as hosting providers write them, driven by psycopg 3."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url.removeprefix("postgres://")
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


def from_env(environ: dict | None = None) -> dict:
    """Build the Flask config mapping from environment variables.

    Production mode is ``LEADEX_ENV=production``: it requires ``SECRET_KEY`` and ``DATABASE_URL``
    and turns on secure cookies; nothing in production falls back to a development default.
    """
    env = os.environ if environ is None else environ
    leadex_env = env.get("LEADEX_ENV", "development").strip().lower()
    if leadex_env not in {"development", "production"}:
        raise ConfigError(f"LEADEX_ENV must be 'development' or 'production', not {leadex_env!r}")
    production = leadex_env == "production"
    instance_dir = Path(env.get("LEADEX_INSTANCE_DIR") or PROJECT_ROOT / "instance")

    secret_key = env.get("SECRET_KEY")
    if not secret_key:
        if production:
            raise ConfigError("SECRET_KEY must be set when LEADEX_ENV=production")
        secret_key = _instance_secret(instance_dir)
    elif production:
        check_secret_key(secret_key)
    database_url = env.get("DATABASE_URL")
    if not database_url:
        if production:
            raise ConfigError("DATABASE_URL must be set when LEADEX_ENV=production")
        private_dir(instance_dir)
        database_url = f"sqlite:///{instance_dir / 'leadex.db'}"
    database_url = normalize_database_url(database_url)

    redis_url = env.get("REDIS_URL") or None
    broker_url = env.get("CELERY_BROKER_URL") or redis_url or "filesystem://"
    broker_dir = instance_dir / "celery-broker"
    broker_options = {}
    if broker_url == "filesystem://":
        private_dir(instance_dir)
        private_dir(broker_dir)
        broker_options = {
            "data_folder_in": str(broker_dir),
            "data_folder_out": str(broker_dir),
            "control_folder": str(instance_dir / "celery-control"),
            "store_processed": False,
        }

    return {
        "LEADEX_ENV": leadex_env,
        "SECRET_KEY": secret_key,
        "INSTANCE_DIR": str(instance_dir),
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "REDIS_URL": redis_url,
        "RATELIMIT_STORAGE_URI": env.get("RATELIMIT_STORAGE_URI") or redis_url or "memory://",
        "RATELIMIT_HEADERS_ENABLED": True,
        "RATELIMIT_ENABLED": _bool(env.get("RATELIMIT_ENABLED"), True),
        # How many proxies in front of the app set X-Forwarded-For/-Proto: 0 trusts none.
        "TRUSTED_PROXIES": _int("TRUSTED_PROXIES", env.get("TRUSTED_PROXIES"), 0),
        "CELERY": {
            "broker_url": broker_url,
            "broker_transport_options": broker_options,
            "task_ignore_result": True,
            "task_always_eager": _bool(env.get("CELERY_ALWAYS_EAGER")),
            "task_eager_propagates": True,
            "beat_schedule_filename": str(instance_dir / "celerybeat-schedule"),
            "worker_hijack_root_logger": False,
            "broker_connection_retry_on_startup": True,
        },
        "STRIPE_API_KEY": env.get("STRIPE_API_KEY") or ("" if production else "sk_test_local"),
        "STRIPE_PUBLISHABLE_KEY": env.get("STRIPE_PUBLISHABLE_KEY")
        or ("" if production else "pk_test_local"),
        "STRIPE_API_BASE": env.get("STRIPE_API_BASE")
        or (None if production else "http://127.0.0.1:8420"),
        "STRIPE_WEBHOOK_SECRET": env.get("STRIPE_WEBHOOK_SECRET")
        or ("" if production else "whsec_local_development"),
        # "connect,answer" in seconds; unset means the gateway's default, 5,30.
        "STRIPE_TIMEOUT": env.get("STRIPE_TIMEOUT") or None,
        "BILLING_PAYOUT_PROVIDER": env.get("BILLING_PAYOUT_PROVIDER") or "manual",
        "API_TOKEN_TTL": timedelta(days=int(env.get("API_TOKEN_TTL_DAYS", "90"))),
        "MAX_CONTENT_LENGTH": int(env.get("MAX_UPLOAD_MB", "256")) * 1024 * 1024,
        "PASSWORD_HASH_METHOD": "scrypt",
        # Network checks at intake, off by default: 'module:function' names.
        "EMAIL_DELIVERABILITY_CHECK": env.get("EMAIL_DELIVERABILITY_CHECK") or None,
        "PHONE_LINE_TYPE_LOOKUP": env.get("PHONE_LINE_TYPE_LOOKUP") or None,
        "UPLOAD_DIR": env.get("UPLOAD_DIR") or None,
        # Webhook delivery to private, loopback and link-local addresses: off in production.
        "DELIVERY_ALLOW_PRIVATE": _bool(env.get("DELIVERY_ALLOW_PRIVATE"), not production),
        "INTAKE_WORKERS": int(env["INTAKE_WORKERS"]) if env.get("INTAKE_WORKERS") else None,
        "SESSION_COOKIE_SECURE": production,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": production,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        # Also the longest a web log-in lasts, checked on the server (app.auth.sessions).
        "REMEMBER_COOKIE_DURATION": timedelta(days=30),
        "WTF_CSRF_TIME_LIMIT": None,
        "API_TITLE": "Leadex API",
        "API_VERSION": "v1",
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/api/v1",
        "OPENAPI_JSON_PATH": "openapi.json",
        "OPENAPI_SWAGGER_UI_PATH": "docs",
        "OPENAPI_SWAGGER_UI_URL": "/api/v1/docs/assets/",
    }


def check_secret_key(secret_key: str) -> None:
    """Refuse a production key that is short or a known placeholder."""
    if len(secret_key) < MIN_SECRET_KEY_LENGTH:
        raise ConfigError(
            f"SECRET_KEY is {len(secret_key)} characters; production needs at least "
            f"{MIN_SECRET_KEY_LENGTH} random ones, e.g. python -c "
            "'import secrets; print(secrets.token_urlsafe(48))'"
        )
    folded = re.sub(r"[^a-z0-9]", "", secret_key.lower())
    if folded in WEAK_SECRET_KEYS or any(part in folded for part in WEAK_SECRET_KEY_PARTS):
        raise ConfigError(
            "SECRET_KEY is a known placeholder; set a random one, e.g. python -c "
            "'import secrets; print(secrets.token_urlsafe(48))'"
        )


def prepare_storage(config) -> None:
    """Make the folders and SQLite file the app writes, readable by their owner only.

    Runs once the configuration is final (tests override the database). The SQLite file is
    created 0600 before SQLAlchemy opens it: SQLite gives its -wal and -shm files the mode of
    the database. An existing UPLOAD_DIR that someone configured (shared storage) keeps its
    mode; uploaded files themselves are written by the marketplace.
    """
    instance_dir = Path(config["INSTANCE_DIR"])
    url = make_url(config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        if not url.database.startswith("file:"):
            database = Path(url.database)
            if database.parent.is_dir():  # O_CREAT without O_TRUNC: an existing file is kept
                os.close(os.open(database, os.O_CREAT | os.O_WRONLY, 0o600))
            for path in (database, Path(f"{database}-wal"), Path(f"{database}-shm")):
                make_private(path)
    if config.get("UPLOAD_DIR"):
        upload_dir = Path(config["UPLOAD_DIR"])
        if not upload_dir.exists():
            private_dir(upload_dir)
    else:
        private_dir(instance_dir)
        private_dir(instance_dir / "uploads")


def configured_callable(config, setting: str):
    """The function a setting names as 'module:function' (or holds itself), or None when unset.

    The contact checks that call a network service (EMAIL_DELIVERABILITY_CHECK,
    PHONE_LINE_TYPE_LOOKUP) are plugged in this way, and intake and re-checks read them alike.
    """
    target = config.get(setting)
    if not target:
        return None
    if callable(target):
        return target
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)
