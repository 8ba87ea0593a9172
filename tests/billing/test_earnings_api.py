"""Sellers' earnings and payouts, admins marking them paid, and the ledger through the API."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.auth.models import AuditEntry
from app.db import utcnow
from app.extensions import db
from app.idempotency import IdempotencyKey
from billing import services
from tests.billing.helpers import fund_wallet, sell
from tests.helpers import make_user

PAYOUTS = "/api/v1/billing/payouts"


@pytest.fixture
def earned(buyer, seller):
    """The seller has 80.00 available and 16.00 pending (fee 20%)."""
    fund_wallet(buyer.organization_id, 20_000)
    sell(buyer.organization_id, seller.organization_id, 10_000, days=-1, key="old")
    sell(buyer.organization_id, seller.organization_id, 2_000, days=7, key="new")
    services.release_earnings(now=utcnow())
    return seller


def test_earnings_show_pending_available_requested_and_paid_out(client, earned, auth):
    body = client.get("/api/v1/billing/earnings", headers=auth(earned)).get_json()
    assert body == {
        "pending_cents": 1600,
        "available_cents": 8000,
        "requested_cents": 0,
        "paid_out_cents": 0,
        "currency": "usd",
    }


def test_payout_request_and_admin_marks_it_paid(client, earned, admin, auth):
    seller_headers, admin_headers = auth(earned), auth(admin)
    missing = client.post(PAYOUTS, json={"amount_cents": 5000}, headers=seller_headers)
    assert missing.status_code == 422
    assert "bank_details" in missing.get_json()["error"]["details"]
    details = client.put(
        "/api/v1/billing/payout-details",
        headers=seller_headers,
        json={"bank_details": "Sunrise Ltd, IBAN GB33BUKB20201555555555"},
    )
    assert details.status_code == 200
    created = client.post(PAYOUTS, json={"amount_cents": 5000}, headers=seller_headers)
    assert created.status_code == 201
    payout = created.get_json()
    assert (payout["amount_cents"], payout["status"]) == (5000, "requested")
    too_much = client.post(PAYOUTS, json={"amount_cents": 3001}, headers=seller_headers)
    assert too_much.status_code == 422
    assert too_much.get_json()["error"]["code"] == "amount_exceeds_available"
    waiting = client.get("/api/v1/admin/payouts?status=requested", headers=admin_headers)
    assert [p["id"] for p in waiting.get_json()["items"]] == [payout["id"]]
    assert waiting.get_json()["items"][0]["destination"].startswith("Sunrise Ltd")
    paid = client.post(
        f"/api/v1/admin/payouts/{payout['id']}/paid",
        json={"reference": "TRF-2026-001"},
        headers=admin_headers,
    )
    assert paid.status_code == 200
    assert paid.get_json()["status"] == "paid"
    again = client.post(
        f"/api/v1/admin/payouts/{payout['id']}/paid",
        json={"reference": "TRF-other"},
        headers=admin_headers,
    )
    assert again.status_code == 409
    earnings = client.get("/api/v1/billing/earnings", headers=seller_headers).get_json()
    assert (earnings["available_cents"], earnings["paid_out_cents"]) == (3000, 5000)
    assert (
        db.session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "payout.paid")
        )
        == 1
    )


def test_payouts_are_per_organisation_and_role(client, earned, buyer, admin, auth):
    services.save_payout_details(seller_org_id=earned.organization_id, details="bank")
    payout = client.post(PAYOUTS, json={}, headers=auth(earned)).get_json()
    assert payout["amount_cents"] == 8000  # everything available
    other = auth(make_user("seller"))
    assert client.get(f"{PAYOUTS}/{payout['id']}", headers=other).status_code == 404
    assert client.get(PAYOUTS, headers=other).get_json()["items"] == []
    assert client.post(PAYOUTS, json={}, headers=auth(buyer)).status_code == 403
    assert (
        client.post(
            f"/api/v1/admin/payouts/{payout['id']}/paid",
            json={"reference": "x"},
            headers=auth(earned),
        ).status_code
        == 403
    )
    assert (
        client.post(
            "/api/v1/admin/payouts/999/paid", json={"reference": "x"}, headers=auth(admin)
        ).status_code
        == 404
    )


@pytest.mark.parametrize("amount", [0, -1, 1.25, "10", True, 10**20])
def test_bad_payout_amounts_are_422_and_move_nothing(client, earned, auth, amount):
    services.save_payout_details(seller_org_id=earned.organization_id, details="bank")
    headers = auth(earned)
    before = client.get("/api/v1/billing/earnings", headers=headers).get_json()
    response = client.post(PAYOUTS, json={"amount_cents": amount}, headers=headers)
    assert response.status_code == 422
    assert "amount_cents" in response.get_json()["error"]["details"]
    assert client.get("/api/v1/billing/earnings", headers=headers).get_json() == before
    assert client.get(PAYOUTS, headers=headers).get_json()["items"] == []


def test_payout_with_the_same_key_is_requested_once(client, earned, auth):
    headers = {**auth(earned), "Idempotency-Key": "payout-1"}
    # Refused first (no bank details): nothing is kept under the key, so it may be retried.
    assert client.post(PAYOUTS, json={"amount_cents": 1000}, headers=headers).status_code == 422
    assert db.session.scalar(select(func.count()).select_from(IdempotencyKey)) == 0
    services.save_payout_details(seller_org_id=earned.organization_id, details="bank")
    first = client.post(PAYOUTS, json={"amount_cents": 1000}, headers=headers)
    second = client.post(PAYOUTS, json={"amount_cents": 1000}, headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.get_json() == second.get_json()
    assert client.get(PAYOUTS, headers=auth(earned)).get_json()["items"].__len__() == 1
    other_body = client.post(PAYOUTS, json={"amount_cents": 2000}, headers=headers)
    assert other_body.status_code == 409
    # The key is the organisation's: another seller may use the same string.
    other = make_user("seller")
    services.save_payout_details(seller_org_id=other.organization_id, details="bank")
    response = client.post(
        PAYOUTS, json={}, headers={**auth(other), "Idempotency-Key": "payout-1"}
    )
    assert response.status_code == 422  # nothing available, but not a 409


def test_ledger_entries_have_the_api_shape_and_stay_in_their_organisation(
    client, earned, buyer, admin, auth
):
    seller_entries = client.get("/api/v1/billing/ledger", headers=auth(earned)).get_json()
    assert {e["account"] for e in seller_entries["items"]} == {
        "seller_pending",
        "seller_available",
    }
    entry = seller_entries["items"][0]
    assert set(entry) == {
        "id",
        "transaction_id",
        "account",
        "organization_id",
        "amount_cents",
        "currency",
        "kind",
        "reference",
        "created_at",
    }
    assert "+00:00" in entry["created_at"]
    assert {e["organization_id"] for e in seller_entries["items"]} == {earned.organization_id}
    buyer_entries = client.get("/api/v1/billing/ledger", headers=auth(buyer)).get_json()
    assert [(e["kind"], e["amount_cents"]) for e in buyer_entries["items"]] == [
        ("sale", -2000),
        ("sale", -10000),
        ("top_up", 20000),
    ]
    assert (
        client.get(
            f"/api/v1/billing/ledger?organization_id={earned.organization_id}", headers=auth(buyer)
        ).status_code
        == 404
    )
    everything = client.get("/api/v1/billing/ledger?limit=500", headers=auth(admin)).get_json()
    accounts = {e["account"] for e in everything["items"]}
    assert {"platform_revenue", "stripe_clearing", "buyer_wallet"} <= accounts
    assert sum(e["amount_cents"] for e in everything["items"]) == 0
    only = client.get(
        f"/api/v1/billing/ledger?organization_id={buyer.organization_id}", headers=auth(admin)
    ).get_json()
    assert {e["account"] for e in only["items"]} == {"buyer_wallet"}
    sales = client.get(
        "/api/v1/billing/ledger?kind=sale&account=platform_revenue", headers=auth(admin)
    ).get_json()["items"]
    assert sorted(e["amount_cents"] for e in sales) == [400, 2000]
    assert client.get("/api/v1/billing/ledger?kind=bogus", headers=auth(admin)).status_code == 422
    assert client.get("/api/v1/billing/ledger?colour=red", headers=auth(admin)).status_code == 422


def test_ledger_pages_with_a_cursor(client, buyer, auth):
    for _ in range(5):
        fund_wallet(buyer.organization_id, 500)
    first = client.get("/api/v1/billing/ledger?limit=2", headers=auth(buyer)).get_json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    seen = [e["id"] for e in first["items"]]
    cursor = first["next_cursor"]
    while cursor:
        page = client.get(
            f"/api/v1/billing/ledger?limit=2&cursor={cursor}", headers=auth(buyer)
        ).get_json()
        seen += [e["id"] for e in page["items"]]
        cursor = page["next_cursor"]
    assert len(seen) == len(set(seen)) == 5
    assert seen == sorted(seen, reverse=True)


def test_release_after_is_respected_by_the_api_figures(client, buyer, seller, auth):
    fund_wallet(buyer.organization_id, 1000)
    sell(buyer.organization_id, seller.organization_id, 1000, days=3)
    services.release_earnings(now=utcnow() + timedelta(days=2))
    body = client.get("/api/v1/billing/earnings", headers=auth(seller)).get_json()
    assert (body["pending_cents"], body["available_cents"]) == (800, 0)
