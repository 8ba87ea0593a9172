"""A seller signs up and uploads a batch in a real browser, mapping a column on the way."""

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import update

from app.extensions import db
from marketplace.models import Batch
from tests.helpers import PASSWORD
from tests.leadfiles import csv_bytes, good_row

pytestmark = pytest.mark.browser

HEADER = [
    "first_name",
    "last_name",
    "Mail",
    "phone",
    "country",
    "postal_code",
    "city",
    "captured_at",
    "consent_text",
    "consented_at",
    "consent_ip",
    "consent_url",
]
# Each bad row breaks exactly one rule, so it gives exactly one line in the rejections table.
BAD_ROWS = {
    17: {"country": "XX"},
    42: {"first_name": "test"},
    150: {"Mail": "not-an-email"},
    299: {"consent_text": ""},
}


def lead_file(tmp_path):
    rows = []
    for n in range(1, 301):
        row = good_row(n) | BAD_ROWS.get(n, {})
        row.setdefault("Mail", row.pop("email"))
        row.pop("email", None)
        rows.append(row)
    path = tmp_path / "june-leads.csv"
    path.write_bytes(csv_bytes(rows, header=HEADER))
    return path


def sign_up_seller(page):
    page.goto("/signup")
    page.get_by_text("Sell leads").click()
    page.get_by_label("Company name").fill("Sunrise Leads")
    page.get_by_label("Work email").fill("sun@example.com")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Repeat password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    page.wait_for_url("**/dashboard")


def test_seller_uploads_maps_a_column_and_follows_the_batch(page, tmp_path):
    sign_up_seller(page)
    expect(page.locator(".card", has_text="Batches")).to_contain_text("0 batches")
    page.get_by_role("link", name="Upload", exact=True).click()
    page.wait_for_url("**/seller/batches/new")

    page.get_by_label("CSV file").set_input_files(lead_file(tmp_path))
    page.get_by_label("Vertical").select_option(label="Solar")
    page.get_by_label("Price per lead (USD)").fill("4.75")
    expect(page.get_by_label("Buyers per lead (shared only)")).to_be_hidden()
    page.get_by_text("Shared", exact=True).click()
    page.get_by_label("Buyers per lead (shared only)").fill("3")
    page.get_by_label("Batch name (optional)").fill("June solar leads")
    page.get_by_role("button", name="Continue").click()

    page.wait_for_url(re.compile(r".*/seller/batches/new/[0-9a-f]{32}/map$"))
    expect(page.locator(".mapping-table")).to_contain_text("first_name")
    expect(page.locator(".preview-table tbody tr")).to_have_count(5)
    page.get_by_label("Mail").select_option("email")
    page.screenshot(path="/tmp/map-step.png", full_page=True)
    page.get_by_role("button", name="Create batch").click()

    page.wait_for_url(re.compile(r".*/seller/batches/\d+$"))
    expect(page.locator("h1")).to_contain_text("June solar leads")
    expect(page.locator(".progress-bar")).to_have_attribute("style", "width: 100%")
    expect(page.locator(".batch-progress")).to_contain_text("300 of 300 rows processed")
    expect(page.locator("[data-count=accepted]")).to_have_text("296")
    expect(page.locator("[data-count=rejected]")).to_have_text("4")
    # Verification drew the sample at once: 296 accepted rows, code H, n = 50, Ac 3, Re 4.
    expect(page.locator(".spot-check")).to_contain_text("Sample size")
    expect(page.locator(".spot-check .stat-value").first).to_have_text("50")
    rejections = page.locator(".rejections-table tbody tr")
    expect(rejections).to_have_count(len(BAD_ROWS))
    assert [int(r) for r in rejections.locator("td:first-child").all_inner_texts()] == sorted(
        BAD_ROWS
    )
    expect(page.locator(".rejections-table")).to_contain_text("invalid_email")
    page.screenshot(path="/tmp/batch-page.png", full_page=True)

    # The leads page lists the accepted leads with the mapped email.
    page.get_by_role("link", name="View leads").click()
    expect(page.locator(".leads-table tbody tr")).to_have_count(50)
    expect(page.locator(".leads-table")).to_contain_text("maria.lopez1@gmail.com")


def test_batch_page_follows_processing_and_reloads_when_it_ends(page, tmp_path):
    sign_up_seller(page)
    page.goto("/seller/batches/new")
    page.get_by_label("CSV file").set_input_files(lead_file(tmp_path))
    page.get_by_label("Vertical").select_option(label="Solar")
    page.get_by_label("Price per lead (USD)").fill("2")
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Mail").select_option("email")
    page.get_by_role("button", name="Create batch").click()
    page.wait_for_url(re.compile(r".*/seller/batches/\d+$"))
    batch_id = int(page.url.rsplit("/", 1)[1])

    # Pretend a worker is half-way through the file: the page polls and moves the bar.
    def set_batch(**values):
        db.session.execute(update(Batch).where(Batch.id == batch_id).values(**values))
        db.session.commit()

    set_batch(status="processing", processed_rows=150)
    page.reload()
    bar = page.locator(".progress-bar")
    expect(bar).to_have_attribute("style", "width: 50%")
    set_batch(processed_rows=225, accepted_count=200)
    expect(bar).to_have_attribute("style", re.compile(r"width: 75%;?"))
    expect(page.locator("[data-field=processed]")).to_have_text("225")
    expect(page.locator("[data-count=accepted]")).to_have_text("200")
    set_batch(status="spot_check", processed_rows=300, accepted_count=296)
    expect(page.locator(".spot-check")).to_contain_text("Sample size")
    expect(bar).to_have_attribute("style", "width: 100%")
