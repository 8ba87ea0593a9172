"""A buyer returns a lead in a browser, an admin accepts it, and the wallet shows the credit."""

import pytest
from playwright.sync_api import expect

from tests.helpers import PASSWORD, make_user
from tests.verification.disputes.flow import WALLET, bought_leads

pytestmark = pytest.mark.browser


def sign_in(page, user):
    page.goto("/login")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/dashboard")


def sign_out(page):
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/login")


def test_a_return_opened_by_the_buyer_and_accepted_by_an_admin_credits_the_wallet(
    page, client, auth
):
    buyer = make_user("buyer", email="returns@example.com", org="Roof Buyers")
    seller = make_user("seller", email="leads@example.com", org="Sunny Leads")
    admin = make_user("admin", email="judge@example.com")
    (lead,) = bought_leads(client, auth, buyer, seller, admin)

    sign_in(page, buyer)
    page.goto(f"/buyer/disputes/new?lead_id={lead.id}")
    expect(page.locator("[data-field=time-left]")).to_contain_text("left")
    page.get_by_label("Reason").select_option(
        label="Wrong person: the contact reaches someone else"
    )
    page.get_by_label("Note").fill("A bakery answers this number.")
    page.screenshot(path="/tmp/dispute-return-form.png", full_page=True)
    page.get_by_role("button", name="Return the lead").click()
    page.wait_for_url("**/buyer/disputes/*")
    expect(page.locator(".flash")).to_contain_text("Returned.")
    expect(page.locator(".buyer-note")).to_contain_text("A bakery answers this number.")
    dispute_path = page.url.split("/buyer/disputes/")[1]
    sign_out(page)

    sign_in(page, admin)
    page.get_by_role("link", name="Disputes", exact=True).first.click()
    page.wait_for_url("**/admin/disputes")
    expect(page.locator(".disputes-table tbody tr")).to_have_count(1)
    expect(page.locator(".disputes-table")).to_contain_text("Roof Buyers")
    page.get_by_role("link", name="Decide").click()
    page.wait_for_url(f"**/admin/disputes/{dispute_path}")
    expect(page.locator(".dispute-lead")).to_contain_text(lead.email)
    page.get_by_label("Accept", exact=False).check()
    page.screenshot(path="/tmp/dispute-decision.png", full_page=True)
    page.get_by_label("Note").fill("The number reaches a bakery.")
    page.get_by_role("button", name="Record decision").click()
    page.wait_for_url("**/admin/disputes")
    expect(page.locator(".flash")).to_contain_text("Accepted: the buyer is credited $15.00")
    sign_out(page)

    sign_in(page, buyer)
    page.goto("/billing")
    expect(page.locator("[data-field=balance]")).to_contain_text(f"${WALLET // 100:,}.00")
    expect(page.locator("#ledger")).to_contain_text("Sale reversed")
    page.goto(f"/buyer/disputes/{dispute_path}")
    expect(page.locator(".decision")).to_contain_text("The number reaches a bakery.")
