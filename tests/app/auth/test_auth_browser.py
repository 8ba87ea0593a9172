"""A person signs up, logs out and logs back in, in a real browser."""

import pytest

from tests.helpers import PASSWORD

pytestmark = pytest.mark.browser


def test_sign_up_log_out_and_log_in(page):
    page.goto("/")
    page.get_by_role("link", name="Create an account").click()
    page.get_by_text("Sell leads").click()
    page.get_by_label("Company name").fill("Night Owl Leads")
    page.get_by_label("Work email").fill("owl@example.com")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Repeat password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    page.wait_for_url("**/dashboard")
    assert page.locator(".badge-seller").text_content().strip() == "seller"
    assert "Night Owl Leads" in page.locator("h1").inner_text()

    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/login")
    assert "signed out" in page.locator(".flash").inner_text()

    page.get_by_label("Email").fill("owl@example.com")
    page.get_by_label("Password").fill("not my password at all")
    page.get_by_role("button", name="Log in").click()
    assert "do not match" in page.locator(".error").inner_text()

    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/dashboard")
    assert "Night Owl Leads" in page.locator("h1").inner_text()
