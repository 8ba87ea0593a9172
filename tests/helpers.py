"""Helpers that tests import: users of each role, API headers, CSRF tokens, web log-in.

Fixtures live in conftest.py (pytest loads it as a plugin); anything a test module imports by name
lives here, so no test imports conftest.
"""

from __future__ import annotations

import os
import re
import threading
import uuid

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app.auth import services
from app.errors import AppError
from app.extensions import db

IN_CI = os.environ.get("CI", "").lower() == "true"
PASSWORD = "correct horse battery staple"
CSRF_RE = re.compile(r'<meta name="csrf-token" content="([^"]+)"')

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


_counter = {"n": 0}


def need(condition: bool, reason: str) -> None:
    """Skip on a developer's machine when a server is missing; fail under CI=true."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"CI=true and {reason}")
    pytest.skip(reason)


def make_user(role: str, *, email: str | None = None, org: str | None = None):
    """A user of ``role`` (seller, buyer or admin) in an organisation of its own."""
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


def bearer(user) -> dict:
    """Headers carrying a fresh API token of ``user``."""
    _, token = services.create_token(user=user)
    return {"Authorization": f"Bearer {token}"}


def csrf_token(client, path: str) -> str:
    """The CSRF token of the page at ``path``, as a form on it would post it."""
    page = client.get(path)
    match = CSRF_RE.search(page.get_data(as_text=True))
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def log_in(client, user) -> None:
    """Log ``user`` in through the web form, as a person would."""
    response = client.post(
        "/login",
        data={
            "email": user.email,
            "password": PASSWORD,
            "csrf_token": csrf_token(client, "/login"),
        },
    )
    assert response.status_code == 302


def clean_database() -> None:
    """Empty every table but the reference data, which goes back to what migrations made."""
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


def assert_forbidden(response) -> None:
    """A role gate said no: 403 with the error envelope and nothing of the object."""
    assert response.status_code == 403
    assert response.get_json() == {
        "error": {"code": "forbidden", "message": response.get_json()["error"]["message"],
                  "details": {}}
    }  # fmt: skip


def field_html(html: str, field_id: str) -> str:
    """A page form field's block (``<div class="field...">`` around the element ``field_id``):
    its label, input and the errors shown beside it."""
    at = html.index(f'id="{field_id}"')
    return html[html.rindex('<div class="field', 0, at) : html.index("</div>", at)]


def empty_database(app, tmp_path):
    """``(url, drop)`` of a new, empty database beside the test run's: a SQLite file, or a
    PostgreSQL database created here and dropped by ``drop()``."""
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() == "sqlite":
        return f"sqlite:///{tmp_path / 'empty.db'}", lambda: None
    name = f"leadex_tmp_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop():
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return url.set(database=name).render_as_string(hide_password=False), drop


def race(app, jobs: list) -> list:
    """Run each ``job()`` in its own thread at once; its result, or the error code it raised."""
    start = threading.Barrier(len(jobs))
    outcomes: list = [None] * len(jobs)

    def run(index, job):
        with app.app_context():
            start.wait()
            try:
                outcomes[index] = job()
            except AppError as exc:
                outcomes[index] = exc.code
            except Exception as exc:  # noqa: BLE001 - a deadlock or any surprise fails the test
                outcomes[index] = f"error: {exc!r}"
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes
