"""A buyer's day after the market, in a real browser: outcomes, export, a purchase, a saved
search with auto-buy paused and resumed, a delivery URL and its secret shown once."""

from pathlib import Path

import pytest
from playwright.sync_api import expect

from marketplace.purchases import services as purchases
from tests.billing.helpers import fund_wallet
from tests.helpers import PASSWORD, make_user
from tests.marketplace.listings.market import list_leads

pytestmark = pytest.mark.browser


def test_the_buyers_day_on_its_pages(page):
    seller = make_user("seller", org="Sunny Leads")
    buyer = make_user("buyer", email="day-buyer@example.com", org="Roofs & Co")
    first, second = list_leads(seller, {"last_name": "Firstbought"}, {"last_name": "Secondbought"})
    fund_wallet(buyer.organization_id, 10_000)
    purchase = purchases.purchase_leads(buyer=buyer, lead_ids=[first.id, second.id])
    purchase_id, first_id, first_email = purchase.id, first.id, first.email

    page.goto("/login")
    page.get_by_label("Email").fill(buyer.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/dashboard")
    expect(page.locator(".card", has_text="Leads by outcome")).to_contain_text(
        "2 leads bought: 2 without an outcome"
    )

    # Leads: full contacts, an outcome recorded, the export.
    page.get_by_role("link", name="Leads", exact=True).click()
    page.wait_for_url("**/buyer/leads")
    expect(page.locator(".bought-table")).to_contain_text(first_email)
    row = page.locator(f"#lead-{first_id}")
    expect(row.get_by_role("link", name="Return", exact=True)).to_have_attribute(
        "href", f"/buyer/disputes/new?lead_id={first_id}"
    )
    row.get_by_label(f"Outcome of lead #{first_id}").select_option("lost")
    row.get_by_role("button", name="Save").click()
    expect(page.locator(f"#lead-{first_id} .error")).to_have_text("Say why the lead was lost.")
    page.locator(f"#lead-{first_id}").get_by_label(f"Reason for lead #{first_id}").fill(
        "Bought elsewhere"
    )
    page.locator(f"#lead-{first_id}").get_by_role("button", name="Save").click()
    expect(page.locator(".flash")).to_contain_text(f"Lead #{first_id} marked lost.")
    expect(page.locator(f"#lead-{first_id}")).to_contain_text("Bought elsewhere")
    with page.expect_download() as download:
        page.get_by_role("link", name="Export CSV").click()
    exported = Path(download.value.path()).read_text(encoding="utf-8-sig")
    assert first_email in exported and "Bought elsewhere" not in exported
    assert ",lost" in exported

    # One purchase: its total and both leads.
    page.locator(f"#lead-{first_id}").get_by_role("link", name=f"Purchase #{purchase_id}").click()
    page.wait_for_url(f"**/buyer/purchases/{purchase_id}")
    expect(page.locator("[data-field=total]")).to_have_text("$30.00")
    expect(page.locator(".purchase-items tbody tr")).to_have_count(2)

    # A saved search with auto-buy, paused and resumed.
    page.get_by_role("link", name="Saved searches", exact=True).click()
    page.get_by_role("link", name="New saved search").first.click()
    page.get_by_label("Name").fill("Hot solar")
    page.get_by_label("Vertical").select_option("solar")
    page.get_by_label("hot", exact=True).check()
    page.get_by_label("Buy new matching leads automatically").check()
    page.get_by_label("Most per lead ($)").fill("20.00")
    page.get_by_label("Leads per day (UTC)").fill("5")
    page.get_by_label("Budget in all ($)").fill("200")
    page.get_by_role("button", name="Save search").click()
    page.wait_for_url("**/buyer/saved-searches")
    state = page.locator(".auto-buy-state").first
    expect(state).to_contain_text("active")
    page.get_by_role("button", name="Pause").click()
    expect(state).to_contain_text("Why: paused by the buyer")
    page.get_by_role("button", name="Resume").click()
    expect(state).to_contain_text("active")
    expect(state).not_to_contain_text("Why:")

    # Delivery: the URL saved, its secret shown once.
    page.get_by_role("link", name="Delivery", exact=True).click()
    page.get_by_label("Webhook URL").fill("https://hooks.example.com/leadex")
    page.get_by_role("button", name="Save URL").click()
    expect(page.locator("[data-field=secret]")).to_contain_text("whsec_")
    shown = page.locator("[data-field=secret]").inner_text()
    page.goto("/buyer/delivery")
    expect(page.get_by_label("Webhook URL")).to_have_value("https://hooks.example.com/leadex")
    expect(page.locator("[data-field=secret]")).to_have_count(0)
    assert shown not in page.content()
    page.screenshot(path="/tmp/buyer-delivery.png", full_page=True)
