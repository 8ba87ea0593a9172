"""Account services: hashing, the audit log, token expiry and the CLI."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.auth import services
from app.auth.models import ApiToken, AuditEntry, User
from app.config import ConfigError, from_env
from app.db import utcnow
from app.errors import Invalid
from app.extensions import db
from tests.helpers import PASSWORD


def test_password_is_stored_hashed_and_checked(seller):
    stored = db.session.get(User, seller.id)
    assert PASSWORD not in stored.password_hash
    assert services.authenticate(email=seller.email.upper(), password=PASSWORD).id == seller.id
    with pytest.raises(services.InvalidCredentials):
        services.authenticate(email=seller.email, password=PASSWORD + "x")


@pytest.mark.parametrize(
    "password", ["short", "password1234", "qwertyuiop123", "aaaaaaaaaaaaaaaa"]
)
def test_weak_passwords_are_refused(password):
    with pytest.raises(Invalid) as error:
        services.signup(
            email="a@example.com", password=password, organization_name="A", kind="buyer"
        )
    assert "password" in error.value.details


def test_role_follows_the_organisation(seller, buyer, admin):
    assert (seller.role, buyer.role, admin.role) == ("seller", "buyer", "admin")
    assert admin.organization.kind == "platform"


def test_audit_log_records_and_is_append_only(seller):
    entry = db.session.scalars(
        select(AuditEntry).where(
            AuditEntry.action == "user.created", AuditEntry.object_id == str(seller.id)
        )
    ).one()
    entry.details = {"tampered": True}
    with pytest.raises(RuntimeError, match="append-only"):
        db.session.flush()
    db.session.rollback()
    with pytest.raises(RuntimeError, match="append-only"):
        db.session.delete(db.session.get(AuditEntry, entry.id))
        db.session.flush()
    db.session.rollback()


def test_purge_removes_only_long_dead_tokens(seller):
    live, _ = services.create_token(user=seller)
    dead, _ = services.create_token(user=seller)
    dead.expires_at = utcnow() - timedelta(days=31)
    db.session.commit()
    assert services.purge_dead_tokens() == 1
    assert [t.id for t in db.session.scalars(select(ApiToken))] == [live.id]


def test_production_needs_a_secret_key_and_database(tmp_path):
    env = {"LEADEX_ENV": "production", "LEADEX_INSTANCE_DIR": str(tmp_path)}
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        from_env(env)
    with pytest.raises(ConfigError, match="DATABASE_URL"):
        from_env(env | {"SECRET_KEY": "s" * 40})
    config = from_env(env | {"SECRET_KEY": "s" * 40, "DATABASE_URL": "postgres://u@h/d"})
    assert config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@h/d"
    assert config["SESSION_COOKIE_SECURE"] is True


def test_development_defaults_are_embedded(tmp_path):
    config = from_env({"LEADEX_INSTANCE_DIR": str(tmp_path)})
    assert config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///")
    assert config["CELERY"]["broker_url"] == "filesystem://"
    assert config["SECRET_KEY"] == from_env({"LEADEX_INSTANCE_DIR": str(tmp_path)})["SECRET_KEY"]
    with_redis = from_env({"LEADEX_INSTANCE_DIR": str(tmp_path), "REDIS_URL": "redis://r:6379/0"})
    assert with_redis["CELERY"]["broker_url"] == "redis://r:6379/0"
    assert with_redis["RATELIMIT_STORAGE_URI"] == "redis://r:6379/0"


def test_cli_creates_admin_and_refuses_bad_input(runner):
    result = runner.invoke(
        args=[
            "users",
            "create",
            "--email",
            "Staff@Example.com",
            "--password",
            PASSWORD,
            "--role",
            "admin",
        ]
    )
    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(User).where(User.email_key == "staff@example.com")).is_admin
    again = runner.invoke(
        args=[
            "users",
            "create",
            "--email",
            "staff@example.com",
            "--password",
            PASSWORD,
            "--role",
            "buyer",
        ]
    )
    assert again.exit_code != 0 and "already exists" in again.output
    weak = runner.invoke(
        args=[
            "users",
            "create",
            "--email",
            "w@example.com",
            "--password",
            "password",
            "--role",
            "buyer",
        ]
    )
    assert weak.exit_code != 0 and "password" in weak.output


def test_demo_is_idempotent_and_prints_accounts(runner):
    first = runner.invoke(args=["demo"])
    assert first.exit_code == 0, first.output
    second = runner.invoke(args=["demo"])
    assert second.exit_code == 0, second.output
    for email in ("admin@demo.example.com", "seller@demo.example.com", "buyer@demo.example.com"):
        assert email in first.output
    assert db.session.scalar(select(db.func.count(User.id))) == 3
