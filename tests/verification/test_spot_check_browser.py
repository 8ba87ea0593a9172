"""An admin works the spot-check queue of a small batch in a real browser until it is listed."""

import pytest
from playwright.sync_api import expect

from app.extensions import db
from marketplace import services as market_services
from marketplace.models import Batch
from tests.helpers import PASSWORD, make_user
from tests.leadfiles import good_row

pytestmark = pytest.mark.browser


def test_admin_records_outcomes_until_the_batch_is_listed(page):
    seller = make_user("seller", email="brightside-seller@example.com", org="Brightside Leads")
    admin = make_user("admin", email="checker@example.com")
    rows = [good_row(9000 + n, has_budget="yes", need="Lower bills") for n in range(3)]
    batch = market_services.create_json_batch(
        user=seller, leads=rows, vertical="solar", price_cents=1200, name="Roof leads"
    )
    batch_id = batch.id

    page.goto("/login")
    page.get_by_label("Email").fill(admin.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/dashboard")
    page.get_by_role("link", name="Spot-checks", exact=True).first.click()
    page.wait_for_url("**/admin/spot-checks")
    expect(page.locator(".queue-table tbody tr")).to_have_count(3)

    page.get_by_role("link", name="Call").first.click()
    for n in range(3):
        expect(page.locator(".script-list li")).to_have_count(3)
        expect(page.locator(".script-list")).to_contain_text("contacted about Solar")
        expect(page.locator(".sample-line")).to_contain_text(f"{n} of 3 inspected")
        # The BANT answers only show for a misqualified lead.
        expect(page.locator(".bant-answers")).to_be_hidden()
        page.get_by_label("Misqualified", exact=False).check()
        expect(page.locator(".bant-answers")).to_be_visible()
        page.get_by_label("Confirmed", exact=False).check()
        expect(page.locator(".bant-answers")).to_be_hidden()
        if n == 0:
            page.screenshot(path="/tmp/spot-check-item.png", full_page=True)
        page.get_by_label("Note (optional)").fill(f"Call {n + 1}: asked for a quote.")
        page.get_by_role("button", name="Record outcome").click()

    page.wait_for_url("**/admin/spot-checks")
    expect(page.locator(".flash")).to_contain_text(f"Batch #{batch_id} passed its spot-check")
    expect(page.get_by_text("Nothing to call")).to_be_visible()
    db.session.expire_all()
    assert db.session.get(Batch, batch_id).status == "listed"

    page.goto(f"/admin/sellers/{seller.organization_id}")
    expect(page.locator(".records-table")).to_contain_text("accepted")
    page.screenshot(path="/tmp/seller-quality.png", full_page=True)
