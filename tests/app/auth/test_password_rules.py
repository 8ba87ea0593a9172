"""A password may not be the account's own email or organisation name (security review L2)."""

import pytest

from app.auth.passwords import password_problems
from tests.helpers import PASSWORD


@pytest.mark.unit
@pytest.mark.parametrize(
    ("password", "email", "organization"),
    [
        ("john.smith@acme-widgets.com", "john.smith@acme-widgets.com", "Acme Widgets"),
        ("John.Smith@ACME-widgets.com", "john.smith@acme-widgets.com", "Acme Widgets"),
        ("Contoso Leads 2024!", "ana@example.com", "Contoso Leads"),
        ("contoso-leads-2024", "ana@example.com", "Contoso Leads"),
        ("Sunrise Solar Leads", "ana@example.com", "Sunrise Solar Leads"),
    ],
)
def test_own_email_or_organisation_name_is_refused(password, email, organization):
    assert password_problems(password, email=email, organization_name=organization)


@pytest.mark.unit
def test_a_good_password_passes_and_a_short_name_is_not_searched_for():
    assert password_problems(PASSWORD, email="ana@example.com", organization_name="Ana Co") == []
    # "IBM" inside a strong password is no reason to refuse it.
    strong = "ibm lantern orchard velvet"
    assert password_problems(strong, email="ana@example.com", organization_name="IBM") == []


def test_signup_with_the_email_as_password_is_422(client):
    email = "john.smith@acme-widgets.com"
    body = {"email": email, "password": email, "organization_name": "Acme", "kind": "buyer"}
    response = client.post("/api/v1/signup", json=body)
    assert response.status_code == 422
    assert "password" in response.get_json()["error"]["details"]


def test_signup_with_the_organisation_name_in_the_password_is_422(client):
    body = {
        "email": "ana@contoso.example",
        "password": "Contoso Leads 2024!",
        "organization_name": "Contoso Leads",
        "kind": "seller",
    }
    response = client.post("/api/v1/signup", json=body)
    assert response.status_code == 422
    assert "password" in response.get_json()["error"]["details"]
