"""Every answer forbids framing and MIME sniffing: pages, the API, static files and errors."""

import pytest

PATHS = [
    "/",
    "/login",
    "/dashboard",  # a redirect to the log-in page
    "/no/such/page",
    "/static/css/leadex.css",
    "/api/v1/me",  # 401
    "/api/v1/openapi.json",
    "/api/v1/docs",
    "/healthz",
]


@pytest.mark.parametrize("path", PATHS)
def test_answers_forbid_framing_and_sniffing(client, path):
    response = client.get(path)
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    response.close()


def test_a_signed_in_page_and_a_post_carry_them_too(client, login, seller):
    login(seller)
    assert client.get("/dashboard").headers["X-Frame-Options"] == "DENY"
    response = client.post("/api/v1/signup", json={})
    assert response.status_code == 422
    assert response.headers["X-Content-Type-Options"] == "nosniff"
