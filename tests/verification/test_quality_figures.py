"""Seller quality figures: hand-worked counts, rates, Wilson bounds, score; who may read them."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.db import utcnow
from app.extensions import db
from marketplace.models import Batch, Lead, SellerAccount, Vertical
from marketplace.purchases.models import Purchase, PurchasedLead
from tests.helpers import assert_forbidden, make_user
from tests.verification.flow import fail_batch, pass_batch, upload
from verification.models import SpotCheck, SpotCheckItem

RATE_KEYS = (
    "rejection_rate",
    "defect_rate",
    "batch_rejection_rate",
    "dispute_rate",
    "upheld_dispute_rate",
    "won_rate",
)


def add_batch(
    seller,
    *,
    days_ago,
    status,
    accepted,
    rejected,
    duplicates,
    decision=None,
    decided_days_ago=None,
):
    vertical = db.session.scalar(select(Vertical).where(Vertical.slug == "solar"))
    batch = Batch(
        seller_id=seller.organization_id,
        vertical_id=vertical.id,
        name=f"{status} batch",
        price_cents=1000,
        max_sales=3,
        status=status,
        source_format="json",
        accepted_count=accepted,
        rejected_count=rejected,
        duplicate_count=duplicates,
        processed_rows=accepted + rejected + duplicates,
        total_rows=accepted + rejected + duplicates,
        created_at=utcnow() - timedelta(days=days_ago),
    )
    db.session.add(batch)
    db.session.flush()
    if decision:
        db.session.add(
            SpotCheck(
                batch_id=batch.id,
                seller_id=seller.organization_id,
                inspection_level="normal",
                aql=2.5,
                lot_size=accepted,
                code_letter="C",
                sample_size=5,
                accept_number=0,
                reject_number=1,
                whole_lot=False,
                seed=1,
                inspected=5 if decision == "accepted" else 1,
                defects=0 if decision == "accepted" else 1,
                decision=decision,
                drawn_at=batch.created_at,
                decided_at=utcnow() - timedelta(days=decided_days_ago),
            )
        )
    return batch


def add_sold_lead(batch, row, sales):
    now = utcnow()
    lead = Lead(
        batch_id=batch.id,
        seller_id=batch.seller_id,
        vertical_id=batch.vertical_id,
        row_number=row,
        status="listed",
        price_cents=1000,
        max_sales=3,
        sales_count=sales,
        listed_at=now - timedelta(days=3),
        first_name="Ann",
        last_name=f"Lee{row}",
        country="US",
        captured_at=now - timedelta(days=6),
        consent_text="Yes, call me.",
        consented_at=now - timedelta(days=6),
        stage="SQL",
        score=50,
        temperature="warm",
    )
    db.session.add(lead)
    db.session.flush()
    # Each sale is a bought lead of another buyer organisation, three days ago.
    for _ in range(sales):
        buyer = make_user("buyer")
        purchase = Purchase(
            buyer_org_id=buyer.organization_id,
            request_hash="-",
            total_cents=1000,
            created_at=now - timedelta(days=3),
        )
        db.session.add(purchase)
        db.session.flush()
        db.session.add(
            PurchasedLead(
                purchase_id=purchase.id,
                lead_id=lead.id,
                buyer_org_id=buyer.organization_id,
                seller_org_id=batch.seller_id,
                price_cents=1000,
                purchased_at=now - timedelta(days=3),
                return_deadline=now + timedelta(days=4),
            )
        )


@pytest.fixture
def history(seller):
    """A hand-made record: one batch outside the last 30 days, one inside, one unfinished."""
    old = add_batch(
        seller,
        days_ago=40,
        status="rejected",
        accepted=20,
        rejected=2,
        duplicates=3,
        decision="rejected",
        decided_days_ago=39,
    )
    recent = add_batch(
        seller,
        days_ago=5,
        status="listed",
        accepted=20,
        rejected=3,
        duplicates=2,
        decision="accepted",
        decided_days_ago=3,
    )
    add_batch(seller, days_ago=1, status="processing", accepted=7, rejected=1, duplicates=0)
    add_sold_lead(recent, 1, sales=1)
    add_sold_lead(recent, 2, sales=2)
    db.session.add(
        SellerAccount(
            organization_id=seller.organization_id,
            is_on_hold=False,
            inspection_level="tightened",
            inspection_state={},
            column_map={},
        )
    )
    # Another seller's record must not leak into this one's figures.
    other = make_user("seller", email="other-seller@example.com", org="Other Leads")
    add_batch(other, days_ago=2, status="rejected", accepted=0, rejected=10, duplicates=0)
    db.session.commit()
    return old, recent


def approx(value):
    return pytest.approx(value, abs=5e-5)


def test_quality_figures_match_a_hand_worked_history(client, seller, auth, history):
    response = client.get("/api/v1/seller/quality", headers=auth(seller))
    assert response.status_code == 200
    body = response.get_json()

    # 25 + 25 rows (the batch still processing does not count), 2 + 3 rejected by the checks.
    assert body["leads_submitted"] == 50 and body["leads_rejected"] == 5
    assert body["rejection_rate"] == approx(0.1)
    # The hand-worked Wilson interval: 5 of 50 -> 0.0435 to 0.2136.
    assert body["rate_intervals"]["rejection_rate"] == {
        "lower": approx(0.0435),
        "upper": approx(0.2136),
    }
    # The hand-made spot-checks carry no item rows: no lead was inspected one by one.
    assert (body["leads_inspected"], body["leads_defective"], body["defect_rate"]) == (0, 0, 0.0)
    assert (body["batches_inspected"], body["batches_rejected"]) == (2, 1)
    assert body["batch_rejection_rate"] == approx(0.5)
    assert body["rate_intervals"]["batch_rejection_rate"] == {
        "lower": approx(0.0945),
        "upper": approx(0.9055),
    }
    assert body["leads_sold"] == 3  # each sale of a shared lead counts
    assert (body["disputes"], body["disputes_upheld"]) == (0, 0)
    assert body["dispute_rate"] == 0.0 and body["upheld_dispute_rate"] == 0.0
    # 0 of 3 sales: 0 to z^2 / (3 + z^2) = 0.5615.
    assert body["rate_intervals"]["upheld_dispute_rate"] == {
        "lower": 0.0,
        "upper": approx(0.5615),
    }
    assert body["won_rate"] == 0.0
    assert body["rate_intervals"]["won_rate"] == {"lower": 0.0, "upper": 1.0}

    recent = body["last_30_days"]
    assert (recent["leads_submitted"], recent["leads_rejected"]) == (25, 3)
    assert recent["rejection_rate"] == approx(0.12)
    assert recent["rate_intervals"]["rejection_rate"] == {
        "lower": approx(0.0417),
        "upper": approx(0.2996),
    }
    assert (recent["batches_inspected"], recent["batches_rejected"]) == (1, 0)
    assert recent["rate_intervals"]["batch_rejection_rate"] == {
        "lower": 0.0,
        "upper": approx(0.7935),
    }
    assert recent["leads_sold"] == 3

    # 40 x (1 - 0.5615) + 30 x (1 - 0.9055) + 20 x (1 - 0.2136) + 10 x 0 = 36.1 -> 36
    assert body["quality_score"] == 36
    assert body["inspection_level"] == "tightened" and body["status"] == "active"
    assert set(RATE_KEYS) == set(body["rate_intervals"])


def test_admins_see_every_seller_with_the_same_figures(client, seller, admin, auth, history):
    own = client.get("/api/v1/seller/quality", headers=auth(seller)).get_json()
    response = client.get("/api/v1/admin/sellers", headers=auth(admin))
    assert response.status_code == 200
    rows = {row["id"]: row for row in response.get_json()["items"]}
    assert len(rows) == 2
    row = rows[seller.organization_id]
    assert row.pop("name") == seller.organization.name and row.pop("id")
    assert row == own
    other = next(r for i, r in rows.items() if i != seller.organization_id)
    assert other["leads_rejected"] == 10 and other["rejection_rate"] == 1.0


def test_quality_endpoints_are_for_their_roles(client, seller, buyer, admin, auth):
    assert client.get("/api/v1/seller/quality").status_code == 401
    assert_forbidden(client.get("/api/v1/seller/quality", headers=auth(buyer)))
    assert_forbidden(client.get("/api/v1/seller/quality", headers=auth(admin)))
    assert_forbidden(client.get("/api/v1/admin/sellers", headers=auth(seller)))
    assert_forbidden(client.get("/api/v1/admin/sellers", headers=auth(buyer)))
    assert client.get("/api/v1/seller/quality", headers=auth(seller)).status_code == 200
    assert client.get("/api/v1/admin/sellers", headers=auth(admin)).status_code == 200


def test_a_new_seller_starts_with_empty_figures(client, seller, auth):
    body = client.get("/api/v1/seller/quality", headers=auth(seller)).get_json()
    assert body["leads_submitted"] == 0 and body["quality_score"] == 0
    assert body["inspection_level"] == "normal" and body["status"] == "active"


def test_the_stored_quality_score_follows_the_figures(client, seller, admin, auth):
    batch = upload(seller, 3)
    account = db.session.get(SellerAccount, seller.organization_id)
    after_intake = account.quality_score
    assert after_intake is not None
    pass_batch(admin, batch.id)
    db.session.expire_all()
    stored = db.session.get(SellerAccount, seller.organization_id).quality_score
    figures = client.get("/api/v1/seller/quality", headers=auth(seller)).get_json()
    assert stored == figures["quality_score"] and stored > after_intake


def test_the_hourly_task_refreshes_scores_events_did_not_touch(seller):
    from verification.tasks import refresh_quality_scores

    upload(seller, 4, country="XX")  # rejected whole at intake: no spot-check, no event
    assert db.session.get(SellerAccount, seller.organization_id) is None
    assert refresh_quality_scores.delay().get() == 1
    db.session.expire_all()
    assert db.session.get(SellerAccount, seller.organization_id).quality_score == 0
    assert refresh_quality_scores.delay().get() == 0


def test_inspected_and_defective_leads_count_every_recorded_outcome(client, seller, admin, auth):
    passed = upload(seller, 8)
    pass_batch(admin, passed.id)
    failed = upload(seller, 8)
    fail_batch(admin, failed.id)
    db.session.expire_all()
    recorded = db.session.scalars(
        select(SpotCheckItem).where(SpotCheckItem.outcome.is_not(None))
    ).all()
    defective = sum(item.outcome != "confirmed" for item in recorded)
    assert defective >= 1 and len(recorded) > defective
    body = client.get("/api/v1/seller/quality", headers=auth(seller)).get_json()
    assert body["leads_inspected"] == len(recorded)
    assert body["leads_defective"] == defective
    assert body["defect_rate"] == approx(defective / len(recorded))
    assert body["last_30_days"]["leads_inspected"] == len(recorded)
