"""The account endpoints behave as api-v1.md says."""

from datetime import timedelta

from sqlalchemy import select

from app.auth.models import ApiToken
from app.db import utcnow
from app.extensions import db
from tests.helpers import PASSWORD


def signup(client, **overrides):
    body = {
        "email": "Ana@Example.com",
        "password": PASSWORD,
        "organization_name": "Ana Solar",
        "kind": "seller",
    } | overrides
    return client.post("/api/v1/signup", json=body)


def token_for(client, email="ana@example.com", password=PASSWORD):
    return client.post("/api/v1/auth/tokens", json={"email": email, "password": password})


def test_signup_returns_user_and_organization(client):
    response = signup(client)
    assert response.status_code == 201
    body = response.get_json()
    assert body["user"]["email"] == "Ana@example.com"
    assert body["user"]["created_at"].endswith("+00:00")
    assert body["organization"] == {
        "id": body["organization"]["id"],
        "name": "Ana Solar",
        "kind": "seller",
    }


def test_signup_bad_data_is_422_with_field_details(client):
    response = client.post(
        "/api/v1/signup", json={"email": "x", "password": "short", "kind": "admin"}
    )
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "validation_error"
    assert {"organization_name", "kind"} <= set(error["details"])


def test_signup_weak_password_is_422_naming_the_password(client):
    response = signup(client, password="password1234")
    assert response.status_code == 422
    assert "password" in response.get_json()["error"]["details"]


def test_signup_email_taken_is_409_whatever_the_case(client):
    assert signup(client).status_code == 201
    response = signup(client, email="ANA@EXAMPLE.COM", organization_name="Other")
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "email_taken"


def test_token_me_and_revoke(client):
    signup(client)
    response = token_for(client)
    assert response.status_code == 201
    created = response.get_json()
    assert created["token"].startswith("ldx_") and created["expires_at"].endswith("+00:00")
    headers = {"Authorization": f"Bearer {created['token']}"}

    me = client.get("/api/v1/me", headers=headers)
    assert me.status_code == 200
    assert me.get_json()["role"] == "seller"
    assert set(me.get_json()["user"]) == {"id", "email", "created_at"}

    listed = client.get("/api/v1/auth/tokens", headers=headers).get_json()
    assert listed["next_cursor"] is None
    assert [t["id"] for t in listed["items"]] == [created["id"]]
    assert "token" not in listed["items"][0]
    assert created["token"].startswith(listed["items"][0]["prefix"])

    assert (
        client.delete(f"/api/v1/auth/tokens/{created['id']}", headers=headers).status_code == 204
    )
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_wrong_password_missing_and_garbage_tokens_are_401(client):
    signup(client)
    assert token_for(client, password="not the password at all").status_code == 401
    assert token_for(client, email="nobody@example.com").status_code == 401
    assert client.get("/api/v1/me").status_code == 401
    response = client.get("/api/v1/me", headers={"Authorization": "Bearer ldx_forged"})
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"


def test_expired_token_is_401(client):
    signup(client)
    created = token_for(client).get_json()
    record = db.session.get(ApiToken, created["id"])
    record.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    headers = {"Authorization": f"Bearer {created['token']}"}
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_tokens_are_stored_only_as_hashes(client):
    signup(client)
    token = token_for(client).get_json()["token"]
    stored = db.session.scalars(select(ApiToken)).one()
    assert token not in (stored.token_hash, stored.prefix)
    assert len(stored.token_hash) == 64


def test_another_users_token_cannot_be_revoked(client):
    signup(client)
    mine = token_for(client).get_json()
    signup(client, email="bob@example.com", organization_name="Bob Co", kind="buyer")
    theirs = token_for(client, email="bob@example.com").get_json()
    response = client.delete(
        f"/api/v1/auth/tokens/{mine['id']}", headers={"Authorization": f"Bearer {theirs['token']}"}
    )
    assert response.status_code == 404
    mine_headers = {"Authorization": f"Bearer {mine['token']}"}
    assert client.get("/api/v1/me", headers=mine_headers).status_code == 200


def test_repeated_failed_logins_are_429(client):
    signup(client)
    for _ in range(5):
        assert token_for(client, password="wrong password attempt").status_code == 401
    response = token_for(client)  # even the right password waits now
    assert response.status_code == 429
    assert response.get_json()["error"]["code"] == "rate_limited"
    # Other accounts are not locked by someone guessing at this one.
    signup(client, email="bob@example.com", organization_name="Bob Co")
    assert token_for(client, email="bob@example.com").status_code == 201


def test_unknown_query_parameter_is_422(client, seller, auth):
    response = client.get("/api/v1/auth/tokens?colour=red", headers=auth(seller))
    assert response.status_code == 422
    assert "colour" in response.get_json()["error"]["details"]


def test_token_list_pages_with_cursor(client, seller, auth):
    headers = auth(seller)
    for _ in range(4):
        auth(seller)
    first = client.get("/api/v1/auth/tokens?limit=2", headers=headers).get_json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    second = client.get(
        f"/api/v1/auth/tokens?limit=2&cursor={first['next_cursor']}", headers=headers
    ).get_json()
    third = client.get(
        f"/api/v1/auth/tokens?limit=2&cursor={second['next_cursor']}", headers=headers
    ).get_json()
    ids = [t["id"] for page in (first, second, third) for t in page["items"]]
    assert len(ids) == 5 == len(set(ids)) and ids == sorted(ids, reverse=True)
    assert third["next_cursor"] is None
    bad = client.get("/api/v1/auth/tokens?cursor=%%%", headers=headers)
    assert bad.status_code == 422 and bad.get_json()["error"]["code"] == "invalid_cursor"
    assert client.get("/api/v1/auth/tokens?limit=501", headers=headers).status_code == 422


def test_malformed_json_is_a_clear_400_not_a_500(client):
    response = client.post("/api/v1/signup", data="{not json", content_type="application/json")
    assert response.status_code in (400, 422)
    assert "error" in response.get_json()


def test_openapi_document_and_offline_docs(client):
    spec = client.get("/api/v1/openapi.json")
    assert spec.status_code == 200
    paths = spec.get_json()["paths"]
    assert {"/api/v1/signup", "/api/v1/auth/tokens", "/api/v1/me"} <= set(paths)
    docs = client.get("/api/v1/docs").get_data(as_text=True)
    assert "/api/v1/docs/assets/swagger-ui-bundle.js" in docs
    assert "cdn" not in docs.lower()
    asset = client.get("/api/v1/docs/assets/swagger-ui-bundle.js")
    assert asset.status_code == 200 and len(asset.data) > 100_000
    asset.close()


def test_unknown_api_path_is_json_404(client):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"
