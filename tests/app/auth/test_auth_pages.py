"""Sign-up, log-in and error pages through the test client, CSRF and all."""

from tests.helpers import PASSWORD, csrf_token


def signup_form(client, **overrides):
    data = {
        "kind": "buyer",
        "organization_name": "Acme Roofing",
        "email": "jo@example.com",
        "password": PASSWORD,
        "confirm": PASSWORD,
        "csrf_token": csrf_token(client, "/signup"),
    } | overrides
    return client.post("/signup", data=data)


def test_form_post_without_csrf_token_is_refused(client):
    response = client.post(
        "/signup",
        data={
            "kind": "buyer",
            "organization_name": "A",
            "email": "a@example.com",
            "password": PASSWORD,
            "confirm": PASSWORD,
        },
    )
    assert response.status_code == 400
    assert "expired" in response.get_data(as_text=True)
    login = client.post("/login", data={"email": "a@example.com", "password": PASSWORD})
    assert login.status_code == 400


def test_signup_logs_in_and_shows_the_role_dashboard(client):
    response = signup_form(client)
    assert response.status_code == 302
    page = client.get("/dashboard").get_data(as_text=True)
    assert "Acme Roofing" in page and "badge-buyer" in page


def test_signup_errors_are_shown_on_the_form(client):
    response = signup_form(client, password="password1234", confirm="password1234")
    assert response.status_code == 422
    assert "less common password" in response.get_data(as_text=True)


def test_login_logout_and_wrong_password(client, seller):
    token = csrf_token(client, "/login")
    wrong = client.post(
        "/login", data={"email": seller.email, "password": "nope nope nope", "csrf_token": token}
    )
    assert wrong.status_code == 401
    assert "do not match" in wrong.get_data(as_text=True)
    ok = client.post(
        "/login?next=//evil.example.com",
        data={"email": seller.email, "password": PASSWORD, "csrf_token": token},
    )
    assert ok.status_code == 302 and ok.headers["Location"] == "/dashboard"
    assert client.get("/logout").status_code == 405  # log-out is a POST with a CSRF token
    out = client.post("/logout", data={"csrf_token": csrf_token(client, "/dashboard")})
    assert out.status_code == 302
    assert client.get("/dashboard").status_code == 302  # back to the log-in page


def test_html_is_escaped_in_organisation_names(client):
    signup_form(client, organization_name="<script>alert(1)</script>")
    page = client.get("/dashboard").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;" in page


def test_friendly_404_page(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert "Page not found" in response.get_data(as_text=True)


def test_stylesheet_is_served_by_the_app(client):
    response = client.get("/static/css/leadex.css")
    assert response.status_code == 200 and b"--brand" in response.data
    response.close()
