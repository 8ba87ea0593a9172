"""Fixtures: one app and schema per run, a clean database per test, users of each role.

The suite runs on SQLite by default and on PostgreSQL when ``TEST_DATABASE_URL`` is set.
Under ``CI=true`` a server a test needs must be there: missing ones fail instead of skipping.
"""

from __future__ import annotations

import os

import pytest
from flask_migrate import upgrade
from sqlalchemy import text

from app import create_app
from app.config import normalize_database_url
from app.extensions import db, limiter
from tests.helpers import bearer, clean_database, log_in, make_user

pytest_plugins = ["tests.plugins.browser", "tests.plugins.stripe"]


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
        upgrade(
            directory=os.path.join(os.path.dirname(__file__), "..", "migrations"), revision="head"
        )
    yield application
    with application.app_context():
        db.engine.dispose()


@pytest.fixture(autouse=True)
def _app_context(request):
    """An app context per test and a clean database after it; unit tests get neither."""
    if request.node.get_closest_marker("unit"):
        yield
        return
    app = request.getfixturevalue("app")
    # A test may build another app (and so another Celery app); tasks must go to this one.
    app.extensions["celery"].set_current()
    app.extensions["celery"].set_default()
    with app.app_context():
        yield
        db.session.remove()
        clean_database()
        limiter.reset()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def seller():
    return make_user("seller")


@pytest.fixture
def buyer():
    return make_user("buyer")


@pytest.fixture
def admin():
    return make_user("admin")


@pytest.fixture
def auth():
    """``auth(user)`` gives the headers of a fresh API token for that user."""
    return bearer


@pytest.fixture
def login(client):
    """``login(user)`` logs the ``client`` in through the web form (flaskr's AuthActions)."""

    def log_in_user(user):
        log_in(client, user)
        return client

    return log_in_user
