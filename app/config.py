"""Configuration read from environment variables, with safe defaults for the embedded mode."""

import os
import secrets
from datetime import timedelta
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class ConfigError(RuntimeError):
    """The environment does not describe a configuration the app can safely start with."""


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _instance_secret(instance_dir: Path) -> str:
    """A random key kept in the instance folder, so development sessions survive restarts."""
    instance_dir.mkdir(parents=True, exist_ok=True)
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
    database_url = env.get("DATABASE_URL")
    if not database_url:
        if production:
            raise ConfigError("DATABASE_URL must be set when LEADEX_ENV=production")
        instance_dir.mkdir(parents=True, exist_ok=True)
        database_url = f"sqlite:///{instance_dir / 'leadex.db'}"
    database_url = normalize_database_url(database_url)

    redis_url = env.get("REDIS_URL") or None
    broker_url = env.get("CELERY_BROKER_URL") or redis_url or "filesystem://"
    broker_dir = instance_dir / "celery-broker"
    broker_options = {}
    if broker_url == "filesystem://":
        broker_dir.mkdir(parents=True, exist_ok=True)
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
        "INTAKE_WORKERS": int(env["INTAKE_WORKERS"]) if env.get("INTAKE_WORKERS") else None,
        "SESSION_COOKIE_SECURE": production,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": production,
        "REMEMBER_COOKIE_HTTPONLY": True,
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
