"""Fixtures: one app and schema per run, a clean database per test, users of each role.

The suite runs on SQLite by default and on PostgreSQL when ``TEST_DATABASE_URL`` is set.
Under ``CI=true`` a server a test needs must be there: missing ones fail instead of skipping.
"""

from __future__ import annotations

import os
import re

import pytest
from flask_migrate import upgrade
from sqlalchemy import text

from app import create_app
from app.auth import services
from app.config import normalize_database_url
from app.extensions import db, limiter

IN_CI = os.environ.get("CI", "").lower() == "true"
PASSWORD = "correct horse battery staple"
# Tables whose rows are reference data seeded by migrations, kept between tests.
REFERENCE_TABLES = {"alembic_version", "verticals", "platform_settings"}
DEFAULT_VERTICAL_SLUGS = (
    "solar",
    "home-insurance",
    "auto-insurance",
    "mortgage",
    "legal",
    "education",
    "b2b-software",
)


def need(condition: bool, reason: str) -> None:
    """Skip on a developer's machine when a server is missing; fail under CI=true."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"CI=true and {reason}")
    pytest.skip(reason)


def database_url(tmp_path_factory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return normalize_database_url(url)
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    instance = tmp_path_factory.mktemp("instance")
    os.environ["LEADEX_INSTANCE_DIR"] = str(instance)
    application = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database_url(tmp_path_factory),
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",  # fast hashing, tests only
            "SERVER_NAME": None,
            "CELERY": {"task_always_eager": True},
        }
    )
    with application.app_context():
        if application.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        upgrade(directory=os.path.join(os.path.dirname(__file__), "..", "migrations"),
                revision="heads")
    yield application
    with application.app_context():
        db.engine.dispose()


def _clean(application) -> None:
    tables = [t for t in db.metadata.sorted_tables if t.name not in REFERENCE_TABLES]
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in reversed(tables):
                conn.execute(table.delete())
        # Reference rows go back to what the migrations made.
        from app.settings import DEFAULTS, PlatformSettings
        from marketplace.models import Vertical

        conn.execute(
            Vertical.__table__.delete().where(Vertical.slug.not_in(DEFAULT_VERTICAL_SLUGS))
        )
        conn.execute(
            Vertical.__table__.update().values(
                return_window_days=7, max_lead_age_days=90, required_columns=[], is_active=True
            )
        )
        conn.execute(PlatformSettings.__table__.update().values(**DEFAULTS))


@pytest.fixture(autouse=True)
def _app_context(app):
    # A test may build another app (and so another Celery app); tasks must go to this one.
    app.extensions["celery"].set_current()
    app.extensions["celery"].set_default()
    with app.app_context():
        yield
        db.session.remove()
        _clean(app)
        limiter.reset()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


_counter = {"n": 0}


def make_user(role: str, *, email: str | None = None, org: str | None = None):
    _counter["n"] += 1
    n = _counter["n"]
    email = email or f"{role}{n}@example.com"
    if role == "admin":
        return services.create_user(
            email=email, password=PASSWORD, role="admin", organization_name=org
        )
    return services.signup(
        email=email,
        password=PASSWORD,
        organization_name=org or f"{role.title()} Org {n}",
        kind=role,
    )


@pytest.fixture
def seller():
    return make_user("seller")


@pytest.fixture
def buyer():
    return make_user("buyer")


@pytest.fixture
def admin():
    return make_user("admin")


def bearer(user) -> dict:
    _, token = services.create_token(user=user)
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def auth():
    """``auth(user)`` gives the headers of a fresh API token for that user."""
    return bearer


CSRF_RE = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


def csrf_token(client, path: str) -> str:
    page = client.get(path)
    match = CSRF_RE.search(page.get_data(as_text=True))
    assert match, f"no CSRF token on {path}"
    return match.group(1)
