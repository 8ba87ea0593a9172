"""The Leadex application factory."""

from __future__ import annotations

import importlib
import logging

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine
from swagger_ui_bundle import swagger_ui_path
from werkzeug.middleware.proxy_fix import ProxyFix

from app import config as config_module
from app import http
from app.api import LeadexApi
from app.extensions import csrf, db, limiter, login_manager, migrate
from app.tasks import celery_init_app

api = LeadexApi()

# Domain packages register themselves through an ``init_app(app, api)`` in their __init__.
DOMAIN_PACKAGES = ("marketplace", "verification", "billing")


def create_app(config: dict | None = None) -> Flask:
    """Build an app from the environment, with ``config`` overriding single keys (tests)."""
    app = Flask(
        __name__,
        static_folder="web/static",
        template_folder="web/templates",
        instance_relative_config=True,
    )
    settings = config_module.from_env()
    overrides = dict(config or {})
    if "CELERY" in overrides:
        settings["CELERY"] = {**settings["CELERY"], **overrides.pop("CELERY")}
    settings.update(overrides)
    app.config.from_mapping(settings)
    http.init_app(app)  # bounded <int:...> ids and body checks, before any route exists
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    config_module.prepare_storage(app.config)
    proxies = app.config["TRUSTED_PROXIES"]
    if proxies:
        # The client's address and scheme as the proxies saw them, for rate limits and
        # secure cookies; with 0 a forged X-Forwarded-For header changes nothing.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)

    register_extensions(app)
    register_security_headers(app)
    register_blueprints(app)
    register_errors(app)
    register_commands(app)
    celery_init_app(app)
    return app


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record):
    # WAL lets readers work beside the one writer; the busy timeout makes writers queue
    # instead of failing at once; foreign keys are off in SQLite unless asked for.
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


def register_extensions(app: Flask) -> None:
    db.init_app(app)
    migrate.init_app(app, db, directory=str(config_module.PROJECT_ROOT / "migrations"))
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message_category = "info"
    api.init_app(
        app,
        spec_kwargs={
            "info": {"description": "The Leadex public API: see api-v1.md for the contract."},
        },
    )
    api.spec.components.security_scheme(
        "bearerAuth", {"type": "http", "scheme": "bearer", "bearerFormat": "ldx_..."}
    )

    from app.auth.sessions import load_user

    login_manager.user_loader(load_user)


SECURITY_HEADERS = {
    # No page of ours may be framed (clickjacking of one-click buttons); frame-ancestors is
    # the CSP form of the same rule and restricts nothing else, so Swagger UI and Stripe.js
    # load as before.
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
}


def register_security_headers(app: Flask) -> None:
    @app.after_request
    def security_headers(response):
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response


def register_blueprints(app: Flask) -> None:
    from app import idempotency, notifications, settings  # noqa: F401  (tables, for migrations)
    from app.auth.api import blp as accounts_api
    from app.auth.views import bp as auth_views
    from app.web.views import bp as web_views

    app.register_blueprint(web_views)
    app.register_blueprint(auth_views)
    api.register_blueprint(accounts_api)
    # The API authenticates with bearer tokens only, never cookies, so CSRF does not apply.
    csrf.exempt(accounts_api)

    @app.get("/api/v1/docs/assets/<path:filename>")
    def swagger_assets(filename):
        from flask import send_from_directory

        return send_from_directory(swagger_ui_path, filename, max_age=86400)

    for name in DOMAIN_PACKAGES:
        package = importlib.import_module(name)
        init = getattr(package, "init_app", None)
        if init is not None:
            init(app, api)


def register_errors(app: Flask) -> None:
    from app.errors import register_error_handlers

    register_error_handlers(app)


def register_commands(app: Flask) -> None:
    from app.auth.cli import users_cli
    from app.cli import demo_command

    app.cli.add_command(users_cli)
    app.cli.add_command(demo_command)
