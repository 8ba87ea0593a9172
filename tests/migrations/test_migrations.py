"""The committed migrations: one head, exactly the schema the models describe, reversible."""

import os

from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from app import create_app
from app.extensions import db
from tests.helpers import empty_database

MIGRATIONS = os.path.join(os.path.dirname(__file__), "..", "..", "migrations")


def _diff_against_models() -> list:
    with db.engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "render_as_batch": True}
        )
        return compare_metadata(context, db.metadata)


def test_there_is_exactly_one_head():
    """`flask db upgrade` (head) is what production runs: two unmerged heads would fail it."""
    config = Config()
    config.set_main_option("script_location", MIGRATIONS)
    heads = ScriptDirectory.from_config(config).get_heads()
    assert len(heads) == 1, f"unmerged migration heads: {heads}"


def test_upgrade_on_empty_database_matches_models(app, tmp_path):
    url, drop = empty_database(app, tmp_path)
    try:
        fresh = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True})
        with fresh.app_context():
            upgrade(directory=MIGRATIONS, revision="head")
            diff = _diff_against_models()
            db.engine.dispose()
        assert diff == [], f"models and migrations disagree: {diff}"
    finally:
        drop()


def test_downgrade_to_base_and_upgrade_again_rebuilds_the_schema(app, tmp_path):
    url, drop = empty_database(app, tmp_path)
    try:
        fresh = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True})
        with fresh.app_context():
            upgrade(directory=MIGRATIONS, revision="head")
            downgrade(directory=MIGRATIONS, revision="base")
            left = set(inspect(db.engine).get_table_names()) - {"alembic_version"}
            upgrade(directory=MIGRATIONS, revision="head")
            diff = _diff_against_models()
            db.engine.dispose()
        assert left == set(), f"downgrade to base left tables behind: {left}"
        assert diff == [], f"models and migrations disagree after a round trip: {diff}"
    finally:
        drop()


def test_notifications_migration_goes_down_and_up_again_alone(app, tmp_path):
    """0014_notifications removes only its table going down, and brings it back going up."""
    config = Config()
    config.set_main_option("script_location", MIGRATIONS)
    below = ScriptDirectory.from_config(config).get_revision("0014_notifications").down_revision
    url, drop = empty_database(app, tmp_path)
    try:
        fresh = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True})
        with fresh.app_context():
            upgrade(directory=MIGRATIONS, revision="0014_notifications")
            before = set(inspect(db.engine).get_table_names())
            downgrade(directory=MIGRATIONS, revision=below)
            after_down = set(inspect(db.engine).get_table_names())
            upgrade(directory=MIGRATIONS, revision="0014_notifications")
            indexes = {i["name"] for i in inspect(db.engine).get_indexes("notifications")}
            db.engine.dispose()
        assert before - after_down == {"notifications"}
        assert indexes == {"ix_notifications_unread", "ix_notifications_list"}
    finally:
        drop()
