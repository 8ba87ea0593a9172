"""A buyer adds a card through Stripe.js (the local server's stand-in) and tops up."""

import os

import pytest

from billing import queries
from tests.billing.helpers import payment_intents
from tests.helpers import PASSWORD, make_user

pytestmark = [pytest.mark.browser, pytest.mark.stripe]


def test_buyer_adds_a_card_with_stripe_js_and_tops_up(page, stripe_server):  # noqa: F811
    buyer = make_user("buyer", org="Brightside Installers")
    page.goto("/login")
    page.get_by_label("Email").fill(buyer.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/dashboard")
    page.get_by_role("link", name="Billing").first.click()
    page.wait_for_url("**/billing")
    assert "Add a card first" in page.content()

    # The stand-in for Stripe's card Element draws plain inputs named by placeholder.
    card = page.locator("#card-element")
    card.locator("input[placeholder=number]").fill("4242424242424242")
    card.locator("input[placeholder=exp_month]").fill("12")
    card.locator("input[placeholder=exp_year]").fill("34")
    card.locator("input[placeholder=cvc]").fill("123")
    card.locator("input[placeholder=postal_code]").fill("94107")
    page.get_by_role("button", name="Save card").click()
    page.wait_for_selector(".card-row")
    assert "•••• 4242" in page.locator(".card-list").inner_text()
    assert "saved; it is your default card" in page.locator(".flash").inner_text()

    page.get_by_label("Amount (USD)").fill("50.00")
    page.get_by_role("button", name="Top up", exact=True).click()
    page.wait_for_selector(".flash-success")
    assert "$50.00 added to your wallet." in page.locator(".flash").inner_text()
    assert page.locator("[data-field=balance]").inner_text().strip() == "$50.00"
    assert queries.get_wallet_balance(buyer.organization_id) == 5000
    assert len(payment_intents(stripe_server)) == 1
    shot = os.environ.get("BILLING_SCREENSHOT")
    if shot:
        page.set_viewport_size({"width": 1280, "height": 900})
        page.screenshot(path=shot, full_page=True)
