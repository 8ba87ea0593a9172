"""Production refuses what only a demo or a development machine should do, and local files are
readable by their owner only."""

import os
import secrets
import stat

import pytest
from sqlalchemy import func, select, text

from app import create_app
from app.auth.models import User
from app.config import ConfigError, from_env
from app.extensions import db


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_demo_refuses_to_run_in_production(app, runner, monkeypatch):
    monkeypatch.setitem(app.config, "LEADEX_ENV", "production")
    result = runner.invoke(args=["demo"])
    assert result.exit_code != 0
    assert "LEADEX_ENV=production" in result.output and "admin" in result.output
    assert db.session.scalar(select(func.count(User.id))) == 0


@pytest.mark.parametrize(
    "key",
    [
        "dev",
        "secret",
        "changeme",
        "development",
        "x" * 31,
        "change-me-change-me-change-me-change-me",
        "your-secret-key-here-please-replace-me",
    ],
)
def test_production_refuses_a_weak_secret_key(tmp_path, key):
    env = {
        "LEADEX_ENV": "production",
        "LEADEX_INSTANCE_DIR": str(tmp_path),
        "DATABASE_URL": "postgresql://u@h/d",
        "SECRET_KEY": key,
    }
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        from_env(env)


def test_weak_secret_key_stops_the_app_at_start_up(monkeypatch, tmp_path):
    monkeypatch.setenv("LEADEX_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "changeme")
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@h/d")
    with pytest.raises(ConfigError, match="SECRET_KEY is 8 characters"):
        create_app()


def test_production_accepts_a_random_secret_key_and_development_any(tmp_path):
    key = secrets.token_urlsafe(32)
    config = from_env(
        {
            "LEADEX_ENV": "production",
            "LEADEX_INSTANCE_DIR": str(tmp_path),
            "DATABASE_URL": "postgresql://u@h/d",
            "SECRET_KEY": key,
        }
    )
    assert config["SECRET_KEY"] == key
    assert from_env({"LEADEX_INSTANCE_DIR": str(tmp_path), "SECRET_KEY": "dev"})


def _app_with_embedded_database(monkeypatch, instance):
    monkeypatch.setenv("LEADEX_INSTANCE_DIR", str(instance))
    for name in ("DATABASE_URL", "UPLOAD_DIR", "LEADEX_ENV"):
        monkeypatch.delenv(name, raising=False)
    embedded = create_app({"TESTING": True})
    with embedded.app_context():
        with db.engine.begin() as conn:  # WAL mode: this writes the -wal and -shm files
            conn.execute(text("CREATE TABLE t (x INTEGER)"))
            conn.execute(text("INSERT INTO t VALUES (1)"))
        database = db.engine.url.database
        # Checked while the connection is open: SQLite removes -wal and -shm on the last close.
        with db.engine.connect() as conn:
            conn.execute(text("SELECT x FROM t")).all()
            modes = {
                suffix: mode(f"{database}{suffix}")
                for suffix in ("", "-wal", "-shm")
                if os.path.exists(f"{database}{suffix}")
            }
        db.engine.dispose()
    return database, modes


def test_instance_folder_database_and_uploads_are_private(monkeypatch, tmp_path):
    instance = tmp_path / "instance"
    database, modes = _app_with_embedded_database(monkeypatch, instance)
    assert database == str(instance / "leadex.db")
    assert mode(instance) == 0o700
    assert mode(instance / "uploads") == 0o700
    assert mode(instance / "secret_key") == 0o600
    assert set(modes) == {"", "-wal", "-shm"}
    assert modes == {"": 0o600, "-wal": 0o600, "-shm": 0o600}


def test_an_existing_instance_folder_and_database_are_tightened(monkeypatch, tmp_path):
    instance = tmp_path / "instance"
    (instance / "uploads").mkdir(parents=True)
    (instance / "leadex.db").touch()
    for path, old in ((instance, 0o755), (instance / "uploads", 0o755)):
        path.chmod(old)
    (instance / "leadex.db").chmod(0o644)
    _, modes = _app_with_embedded_database(monkeypatch, instance)
    assert (mode(instance), mode(instance / "uploads")) == (0o700, 0o700)
    assert modes[""] == 0o600


def test_a_configured_upload_folder_is_created_private(monkeypatch, tmp_path):
    uploads = tmp_path / "shared" / "uploads"
    monkeypatch.setenv("LEADEX_INSTANCE_DIR", str(tmp_path / "instance"))
    monkeypatch.setenv("UPLOAD_DIR", str(uploads))
    embedded = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert embedded.config["UPLOAD_DIR"] == str(uploads)
    assert mode(uploads) == 0o700
