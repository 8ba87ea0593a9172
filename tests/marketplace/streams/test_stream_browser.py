"""A seller's stream in a real browser: opened from the list, its counters following posts live
(without a reload), paused and resumed."""

import pytest
from playwright.sync_api import expect

from tests.helpers import PASSWORD, bearer, make_user
from tests.verification.flow import rows

pytestmark = pytest.mark.browser


def test_a_seller_opens_a_stream_and_watches_its_counters(page, client):
    seller = make_user("seller", email="stream-seller@example.com", org="Live Leads")
    headers = bearer(seller)
    page.goto("/login")
    page.get_by_label("Email").fill(seller.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/dashboard")
    expect(page.locator(".card", has_text="Streams")).to_contain_text("No stream yet")

    page.get_by_role("link", name="Streams", exact=True).click()
    page.wait_for_url("**/seller/streams")
    page.get_by_label("Name").fill("Roof form")
    page.get_by_label("Price per lead (USD)").fill("1.234")
    page.get_by_role("button", name="Open the stream").click()
    expect(page.locator(".new-stream .error")).to_contain_text("Whole cents only")
    page.get_by_label("Vertical").select_option("solar")
    page.get_by_label("Price per lead (USD)").fill("15.00")
    page.get_by_role("button", name="Open the stream").click()
    page.wait_for_url("**/seller/streams/*")
    expect(page.locator("h1")).to_contain_text("Roof form")
    expect(page.locator("#post-example")).to_contain_text("/leads")
    expect(page.locator('[data-count="posted"]')).to_have_text("0")
    stream_id = page.url.rsplit("/", 1)[1]

    for lead in rows(2):
        answer = client.post(f"/api/v1/streams/{stream_id}/leads", json=lead, headers=headers)
        assert answer.get_json()["status"] == "inspection"
    # The page polls: the counters move with no reload.
    expect(page.locator('[data-count="posted"]')).to_have_text("2", timeout=10_000)
    expect(page.locator('[data-count="inspection"]')).to_have_text("2")

    page.get_by_role("button", name="Pause the stream").click()
    expect(page.locator(".flash")).to_contain_text("Stream “Roof form” paused.")
    expect(page.locator("[data-field=status]").first).to_have_text("paused")
    page.get_by_role("button", name="Resume the stream").click()
    expect(page.locator("[data-field=status]").first).to_have_text("active")
    expect(page.locator(".history-table")).to_contain_text("paused by the seller")
