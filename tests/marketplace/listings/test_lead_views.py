"""What each account sees of a lead: the masked preview, the full lead for its seller and
admins, and 404 for a lead not on sale to everyone else. No contact reaches a buyer."""

from datetime import timedelta

import pytest
from sqlalchemy import update

from app.db import transaction
from app.extensions import db
from marketplace import services as market_services
from marketplace.models import Lead
from marketplace.services import update_vertical
from tests.helpers import make_user
from tests.marketplace.listings.market import contact_values, get, ids, list_leads
from tests.verification.flow import upload

MASKED_KEYS = {
    "id", "vertical", "captured_at", "listed_at", "price_cents", "currency", "max_sales",
    "sales_remaining", "preview", "location", "qualification", "verification", "seller",
}  # fmt: skip


@pytest.fixture
def seller_and_lead(seller):
    (lead,) = list_leads(
        seller,
        {"first_name": "John", "last_name": "Smith", "email": "john.smith@example.com",
         "phone": "+1 415 555 0142", "address": "1 Market Street", "company": "Acme",
         "job_title": "Owner", "postal_code": "94103", "region": "CA"},
    )  # fmt: skip
    return seller, lead


def test_the_masked_lead_has_exactly_the_documented_shape(client, buyer, auth, seller_and_lead):
    _, lead = seller_and_lead
    status, body = get(client, auth(buyer), "/api/v1/leads")
    assert status == 200
    (item,) = body["items"]
    assert set(item) == MASKED_KEYS
    assert item["preview"] == {
        "first_name": "J.",
        "last_name": "S.",
        "email": "j***@example.com",
        "phone": "+1 415 \u2022\u2022\u2022 \u2022\u202242",
        "company": "Acme",
        "job_title": "Owner",
    }
    assert item["location"] == {
        "country": "US",
        "region": "CA",
        "city": "San Francisco",
        "postal_prefix": "941",
    }
    assert set(item["qualification"]) == {
        "stage", "score", "temperature", "timeline", "bant", "frameworks", "score_breakdown",
    }  # fmt: skip
    assert set(item["qualification"]["bant"]) == {"budget", "authority", "need", "timing", "met"}
    assert set(item["qualification"]["frameworks"]) == {"champ", "anum", "faint", "gpct"}
    assert item["qualification"]["score_breakdown"] == lead.score_breakdown
    assert item["verification"] == {
        "phone_type": lead.phone_type,
        "email_status": lead.email_status,
        "consent_certificate": False,
    }
    quality = market_services.seller_account(lead.seller_id).quality_score
    assert item["seller"] == {"id": lead.seller_id, "quality_score": quality}
    assert item["vertical"] == "solar" and item["sales_remaining"] == 1
    _, one = get(client, auth(buyer), f"/api/v1/leads/{lead.id}")
    assert one == item


def test_a_buyer_never_obtains_a_contact(client, buyer, auth, seller_and_lead):
    seller, lead = seller_and_lead
    headers = auth(buyer)
    answers = [
        client.get("/api/v1/leads", headers=headers),
        client.get(f"/api/v1/leads/{lead.id}", headers=headers),
        client.get("/api/v1/leads?min_score=abc", headers=headers),
        client.get(f"/api/v1/leads?city={lead.city}&postal_prefix=x", headers=headers),
        client.get(f"/api/v1/leads/{lead.id + 1000}", headers=headers),
        client.post(f"/api/v1/leads/{lead.id}/withdraw", headers=headers),
        client.get(f"/api/v1/batches/{lead.batch_id}/leads", headers=headers),
    ]
    market_services.withdraw_lead(actor=seller, lead_id=lead.id)
    answers.append(client.get(f"/api/v1/leads/{lead.id}", headers=headers))
    for response in answers:
        text = response.get_data(as_text=True)
        for value in contact_values(lead):
            assert value not in text, (response.request.path, value)


def test_the_seller_and_admins_see_the_full_lead(client, admin, auth, seller_and_lead):
    seller, lead = seller_and_lead
    for user in (seller, admin):
        status, body = get(client, auth(user), f"/api/v1/leads/{lead.id}")
        assert status == 200
        assert body["contact"]["email"] == "john.smith@example.com"
        assert body["consent"]["ip"] == lead.consent_ip


def _not_on_sale_cases(lead):
    """Ways a lead leaves the market, each applied in turn."""
    return {
        "sold out": update(Lead).where(Lead.id == lead.id).values(sales_count=Lead.max_sales),
        "paused": update(Lead).where(Lead.id == lead.id).values(is_paused=True),
        "withdrawn": update(Lead).where(Lead.id == lead.id).values(status="withdrawn"),
        "expired": update(Lead)
        .where(Lead.id == lead.id)
        .values(expires_at=lead.captured_at + timedelta(days=1)),
    }


@pytest.mark.parametrize("case", ["sold out", "paused", "withdrawn", "expired"])
def test_a_lead_not_on_sale_is_404_to_all_but_its_seller_and_admins(
    client, buyer, admin, auth, seller_and_lead, case
):
    seller, lead = seller_and_lead
    with transaction():
        db.session.execute(
            _not_on_sale_cases(lead)[case].execution_options(synchronize_session=False)
        )
    other_seller = make_user("seller")
    for user in (buyer, other_seller):
        status, body = get(client, auth(user), f"/api/v1/leads/{lead.id}")
        assert status == 404 and body["error"]["code"] == "not_found"
        assert ids(get(client, auth(user), "/api/v1/leads")[1]) == []
    for user in (seller, admin):
        assert get(client, auth(user), f"/api/v1/leads/{lead.id}")[0] == 200


def test_a_lead_still_in_spot_check_is_404_to_buyers(client, buyer, auth, seller):
    batch = upload(seller, 2)
    lead_id = db.session.scalar(db.select(Lead.id).where(Lead.batch_id == batch.id).limit(1))
    assert get(client, auth(buyer), f"/api/v1/leads/{lead_id}")[0] == 404
    assert get(client, auth(seller), f"/api/v1/leads/{lead_id}")[0] == 200
    assert get(client, auth(buyer), "/api/v1/leads")[1]["items"] == []


def test_a_shorter_maximum_age_takes_older_leads_off_the_market(
    client, buyer, admin, auth, seller
):
    """Leads are captured two days ago: a one-day maximum age expires them, a longer one
    brings them back."""
    list_leads(seller, {}, {})
    assert len(get(client, auth(buyer), "/api/v1/leads")[1]["items"]) == 2
    update_vertical(actor=admin, slug="solar", max_lead_age_days=1)
    assert get(client, auth(buyer), "/api/v1/leads")[1]["items"] == []
    update_vertical(actor=admin, slug="solar", max_lead_age_days=30)
    assert len(get(client, auth(buyer), "/api/v1/leads")[1]["items"]) == 2


def test_a_listed_lead_expires_at_capture_plus_the_verticals_maximum_age(seller):
    (lead,) = list_leads(seller, {})
    assert lead.expires_at == lead.captured_at + timedelta(days=90)
