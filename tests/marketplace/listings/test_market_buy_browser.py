"""A buyer filters the market, ticks two leads, confirms the total and sees the purchase; then
buys N matching, in a real browser."""

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.extensions import db
from billing import queries as billing_queries
from marketplace.purchases.models import Purchase, PurchasedLead
from tests.billing.helpers import fund_wallet
from tests.helpers import PASSWORD, make_user
from tests.marketplace.listings.market import list_leads

pytestmark = pytest.mark.browser


def _bought(buyer) -> list[int]:
    db.session.expire_all()
    stmt = select(PurchasedLead.lead_id).where(PurchasedLead.buyer_org_id == buyer.organization_id)
    return sorted(db.session.scalars(stmt))


def _expect_purchase_shown(page, purchase_id: int) -> None:
    """A confirmed purchase goes to its own page, with the leads in full."""
    assert page.url.endswith(f"/buyer/purchases/{purchase_id}")
    expect(page.locator("h1")).to_contain_text(f"{purchase_id}")


def test_a_buyer_buys_ticked_leads_then_n_matching_from_the_market(page):
    seller = make_user("seller", org="Sunny Leads")
    buyer = make_user("buyer", email="shopper@example.com")
    fresno = list_leads(seller, *({"city": "Fresno"} for _ in range(5)), price_cents=1200)
    list_leads(seller, {"city": "Oakland"}, {"city": "Oakland"}, price_cents=900)
    fund_wallet(buyer.organization_id, 10_000)

    page.goto("/login")
    page.get_by_label("Email").fill(buyer.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/dashboard")
    page.goto("/market")
    page.get_by_label("City").fill("Fresno")
    page.get_by_role("button", name="Show leads").click()
    rows = page.locator(".market-table tbody tr")
    expect(rows).to_have_count(5)
    expect(page.locator(".market-results")).not_to_contain_text("Oakland")

    first, second = fresno[0].id, fresno[1].id
    page.get_by_label(f"Select lead #{first}").check()
    page.get_by_label(f"Select lead #{second}").check()
    page.screenshot(path="/tmp/market-ticked.png", full_page=True)
    page.get_by_role("button", name="Buy selected").click()
    page.wait_for_url(re.compile(r".*/market/buy\?.*"))
    expect(page.locator('[data-field="count"]')).to_have_text("2")
    expect(page.locator('[data-field="total"]')).to_have_text("$24.00")
    expect(page.locator('[data-field="balance"]')).to_have_text("$100.00")
    page.screenshot(path="/tmp/market-confirm.png", full_page=True)
    page.get_by_role("button", name="Confirm and pay $24.00").click()
    page.wait_for_load_state()
    (purchase,) = db.session.scalars(select(Purchase)).all()
    _expect_purchase_shown(page, purchase.id)
    expect(page.locator(".flash-success")).to_contain_text("Bought 2 leads for $24.00")
    assert _bought(buyer) == sorted([first, second])

    # N matching: the same filters, the first two matches not bought yet.
    page.goto("/market?city=Fresno")
    expect(rows).to_have_count(3)
    page.get_by_label("Buy", exact=True).fill("2")
    page.get_by_role("button", name="matching leads").click()
    expect(page.locator('[data-field="count"]')).to_have_text("2")
    expect(page.locator('[data-field="balance"]')).to_have_text("$76.00")
    page.get_by_role("button", name="Confirm and pay $24.00").click()
    page.wait_for_load_state()
    db.session.expire_all()
    assert len(db.session.scalars(select(Purchase)).all()) == 2
    assert len(_bought(buyer)) == 4 and set(_bought(buyer)) <= {lead.id for lead in fresno}
    assert billing_queries.get_wallet_balance(buyer.organization_id) == 10_000 - 4 * 1200
    page.screenshot(path="/tmp/market-buy.png", full_page=True)
