"""Per-address limits count the real client (through TRUSTED_PROXIES proxies) and are shared by
the web forms and the API."""

import pytest

from app import create_app
from app.config import ConfigError, from_env
from app.extensions import db
from tests.helpers import PASSWORD, csrf_token

PROXY = "10.0.0.2"


def api_signup(client, n, **request):
    body = {
        "email": f"client{n}@example.com",
        "password": PASSWORD,
        "organization_name": f"Client {n}",
        "kind": "buyer",
    }
    return client.post("/api/v1/signup", json=body, **request)


def via_proxy(client_address):
    return {
        "environ_base": {"REMOTE_ADDR": PROXY},
        "headers": {"X-Forwarded-For": client_address, "X-Forwarded-Proto": "https"},
    }


@pytest.fixture
def app_behind_one_proxy(app):
    proxied = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "PASSWORD_HASH_METHOD": app.config["PASSWORD_HASH_METHOD"],
            "TRUSTED_PROXIES": 1,
        }
    )
    yield proxied
    with proxied.app_context():
        db.session.remove()
        db.engine.dispose()


def test_behind_a_trusted_proxy_each_client_has_its_own_signup_limit(app_behind_one_proxy):
    client = app_behind_one_proxy.test_client()
    for n in range(1, 12):
        response = api_signup(client, n, **via_proxy(f"198.51.100.{n}"))
        assert response.status_code == 201, (n, response.get_json())
    # ... and one client still has its 10 an hour.
    for n in range(12, 21):
        assert api_signup(client, n, **via_proxy("198.51.100.1")).status_code == 201
    assert api_signup(client, 21, **via_proxy("198.51.100.1")).status_code == 429


def test_without_trusted_proxies_a_forged_forwarded_for_changes_nothing(client):
    for n in range(1, 11):
        assert api_signup(client, n, **via_proxy(f"198.51.100.{n}")).status_code == 201
    response = api_signup(client, 11, **via_proxy("198.51.100.11"))
    assert response.status_code == 429
    assert response.get_json()["error"]["code"] == "rate_limited"


def test_web_and_api_signups_share_one_counter(client):
    for n in range(1, 11):
        assert api_signup(client, n).status_code == 201
    response = client.post(
        "/signup",
        data={
            "kind": "buyer",
            "organization_name": "Web Client",
            "email": "web@example.com",
            "password": PASSWORD,
            "confirm": PASSWORD,
            "csrf_token": csrf_token(client, "/signup"),
        },
    )
    assert response.status_code == 429


def test_web_and_api_logins_share_one_counter(client):
    for n in range(30):
        response = client.post(
            "/api/v1/auth/tokens", json={"email": f"nobody{n}@example.com", "password": "x"}
        )
        assert response.status_code == 401
    response = client.post(
        "/login",
        data={
            "email": "someone@example.com",
            "password": PASSWORD,
            "csrf_token": csrf_token(client, "/login"),
        },
    )
    assert response.status_code == 429


def test_trusted_proxies_setting(tmp_path):
    env = {"LEADEX_INSTANCE_DIR": str(tmp_path)}
    assert from_env(env)["TRUSTED_PROXIES"] == 0
    assert from_env(env | {"TRUSTED_PROXIES": "2"})["TRUSTED_PROXIES"] == 2
    for bad in ("one", "-1"):
        with pytest.raises(ConfigError, match="TRUSTED_PROXIES"):
            from_env(env | {"TRUSTED_PROXIES": bad})
