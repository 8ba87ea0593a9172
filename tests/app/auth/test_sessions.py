"""Web log-ins end when they should: log-out, a password change and disabling end every copy of
the session cookie and the remember-me cookie, and the server enforces the cookie's lifetime."""

import time
from datetime import timedelta

import pytest

from app.auth import services, sessions
from app.config import from_env
from app.errors import Forbidden
from tests.helpers import PASSWORD, csrf_token, log_in, make_user

NEW_PASSWORD = "lantern orchard velvet compass"


def log_in_remembered(client, user):
    response = client.post(
        "/login",
        data={
            "email": user.email,
            "password": PASSWORD,
            "remember": "y",
            "csrf_token": csrf_token(client, "/login"),
        },
    )
    assert response.status_code == 302
    return response


def copied(app, client, name):
    """A new browser holding only a copy of ``client``'s cookie ``name`` (a thief's)."""
    cookie = client.get_cookie(name)
    assert cookie is not None, f"no {name} cookie"
    thief = app.test_client()
    thief.set_cookie(name, cookie.value)
    return thief


def assert_signed_in(client):
    assert client.get("/dashboard").status_code == 200


def assert_sent_to_login(client):
    response = client.get("/dashboard")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def log_out(client):
    response = client.post("/logout", data={"csrf_token": csrf_token(client, "/dashboard")})
    assert response.status_code == 302


def test_log_out_ends_copied_session_and_remember_cookies(app, client, seller):
    log_in_remembered(client, seller)
    for name in ("session", "remember_token"):
        assert_signed_in(copied(app, client, name))
    stolen = {name: client.get_cookie(name).value for name in ("session", "remember_token")}

    log_out(client)

    for name, value in stolen.items():
        thief = app.test_client()
        thief.set_cookie(name, value)
        assert_sent_to_login(thief)
    assert_sent_to_login(client)


def test_log_out_ends_the_users_other_devices_but_not_other_users(app, seller, buyer):
    laptop, phone, other = app.test_client(), app.test_client(), app.test_client()
    log_in(laptop, seller)
    log_in_remembered(phone, seller)
    log_in(other, buyer)
    log_out(laptop)
    assert_sent_to_login(phone)
    assert_signed_in(other)
    log_in(laptop, seller)  # and a new log-in works again
    assert_signed_in(laptop)


def test_password_change_on_the_account_page_ends_other_sessions(app, client, seller):
    log_in_remembered(client, seller)
    session_copy = copied(app, client, "session")
    remember_copy = copied(app, client, "remember_token")

    wrong = client.post(
        "/account",
        data={
            "current_password": "not the password at all",
            "new_password": NEW_PASSWORD,
            "confirm": NEW_PASSWORD,
            "csrf_token": csrf_token(client, "/account"),
        },
    )
    assert wrong.status_code == 422 and "not right" in wrong.get_data(as_text=True)
    assert_signed_in(session_copy)

    changed = client.post(
        "/account",
        data={
            "current_password": PASSWORD,
            "new_password": NEW_PASSWORD,
            "confirm": NEW_PASSWORD,
            "csrf_token": csrf_token(client, "/account"),
        },
    )
    assert changed.status_code == 302

    assert_signed_in(client)  # the browser that changed it carries on
    assert_sent_to_login(session_copy)
    assert_sent_to_login(remember_copy)
    assert services.authenticate(email=seller.email, password=NEW_PASSWORD).id == seller.id
    with pytest.raises(services.InvalidCredentials):
        services.authenticate(email=seller.email, password=PASSWORD)


def test_the_new_password_follows_the_rules(client, seller):
    log_in(client, seller)
    response = client.post(
        "/account",
        data={
            "current_password": PASSWORD,
            "new_password": "password1234",
            "confirm": "password1234",
            "csrf_token": csrf_token(client, "/account"),
        },
    )
    assert response.status_code == 422
    assert "less common password" in response.get_data(as_text=True)


def test_set_password_from_the_cli_ends_sessions(app, client, runner, seller):
    log_in_remembered(client, seller)
    remember_copy = copied(app, client, "remember_token")
    result = runner.invoke(
        args=["users", "set-password", "--email", seller.email, "--password", NEW_PASSWORD]
    )
    assert result.exit_code == 0, result.output
    assert_sent_to_login(client)
    assert_sent_to_login(remember_copy)
    weak = runner.invoke(
        args=["users", "set-password", "--email", seller.email, "--password", "password1234"]
    )
    assert weak.exit_code != 0 and "password" in weak.output
    nobody = runner.invoke(
        args=["users", "set-password", "--email", "no@example.com", "--password", NEW_PASSWORD]
    )
    assert nobody.exit_code != 0 and "No user" in nobody.output


def test_admin_disabling_a_user_ends_their_sessions_for_good(app, client, seller, admin):
    log_in_remembered(client, seller)
    session_copy = copied(app, client, "session")
    remember_copy = copied(app, client, "remember_token")

    services.set_user_enabled(actor=admin, user=seller, is_enabled=False)
    for browser in (client, session_copy, remember_copy):
        assert_sent_to_login(browser)

    # Enabling again needs a new log-in: the old cookies stay dead.
    services.set_user_enabled(actor=admin, user=seller, is_enabled=True)
    assert_sent_to_login(copied(app, client, "remember_token"))
    assert_sent_to_login(remember_copy)


def test_only_admins_disable_users(seller, buyer):
    with pytest.raises(Forbidden):
        services.set_user_enabled(actor=buyer, user=seller, is_enabled=False)


def test_disable_from_the_cli(app, client, runner, seller):
    log_in(client, seller)
    result = runner.invoke(args=["users", "disable", "--email", seller.email])
    assert result.exit_code == 0, result.output
    assert_sent_to_login(client)
    assert runner.invoke(args=["users", "enable", "--email", seller.email]).exit_code == 0
    log_in(client, seller)
    assert_signed_in(client)


def test_remember_cookie_expires_on_the_server(app, client, seller, monkeypatch):
    log_in_remembered(client, seller)
    remember = client.get_cookie("remember_token").value
    lifetime = app.config["REMEMBER_COOKIE_DURATION"]

    def thief_at(offset: timedelta):
        monkeypatch.setattr(sessions, "now", lambda: time.time() + offset.total_seconds())
        thief = app.test_client()
        thief.set_cookie("remember_token", remember)
        return thief

    assert_signed_in(thief_at(lifetime - timedelta(days=1)))
    assert_sent_to_login(thief_at(lifetime + timedelta(minutes=1)))


def test_forged_and_legacy_ids_load_nobody(seller):
    assert sessions.load_user(str(seller.id)) is None  # the old bare-id format
    assert sessions.load_user(f"{seller.id}:0") is None
    assert sessions.load_user(f"{seller.id}:1:{int(time.time())}") is None  # wrong version
    assert sessions.load_user(f"{'9' * 40}:0:{int(time.time())}") is None
    assert sessions.load_user(f"{seller.id}:0:{int(time.time())}").id == seller.id


def test_remember_cookie_is_lax_http_only_and_secure_in_production(client, tmp_path):
    seller = make_user("seller")
    response = log_in_remembered(client, seller)
    cookie = next(
        c for c in response.headers.getlist("Set-Cookie") if c.startswith("remember_token=")
    )
    assert "SameSite=Lax" in cookie and "HttpOnly" in cookie
    production = from_env(
        {
            "LEADEX_ENV": "production",
            "LEADEX_INSTANCE_DIR": str(tmp_path),
            "SECRET_KEY": "k" * 48,
            "DATABASE_URL": "postgresql://u@h/d",
        }
    )
    assert production["REMEMBER_COOKIE_SECURE"] is True
    assert production["REMEMBER_COOKIE_SAMESITE"] == "Lax"
