"""The generic Idempotency-Key mechanism (app/idempotency.py), through billing's endpoints."""

from datetime import timedelta

from sqlalchemy import func, select

from app.db import transaction, utcnow
from app.extensions import db
from app.idempotency import IdempotencyKey
from billing import services
from tests.billing.helpers import fund_wallet, sell

PAYOUTS = "/api/v1/billing/payouts"


def _ready_seller(buyer, seller):
    fund_wallet(buyer.organization_id, 10_000)
    sell(buyer.organization_id, seller.organization_id, 10_000, days=-1)
    services.release_earnings()
    services.save_payout_details(seller_org_id=seller.organization_id, details="bank")


def _claim(org_id, key, body_hash, created_at):
    with transaction() as session:
        session.add(
            IdempotencyKey(
                organization_id=org_id,
                key=key,
                method_path=f"POST {PAYOUTS}",
                request_hash=body_hash,
                created_at=created_at,
            )
        )


def test_a_request_still_running_under_the_key_is_409_in_use(client, buyer, seller, auth):
    _ready_seller(buyer, seller)
    from app.idempotency import request_fingerprint

    with client.application.test_request_context(
        PAYOUTS, method="POST", json={"amount_cents": 100}
    ):
        body_hash = request_fingerprint()
    _claim(seller.organization_id, "busy", body_hash, utcnow())
    response = client.post(
        PAYOUTS, json={"amount_cents": 100}, headers={**auth(seller), "Idempotency-Key": "busy"}
    )
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "idempotency_key_in_use"


def test_a_stale_claim_of_a_dead_request_is_taken_over(client, buyer, seller, auth):
    _ready_seller(buyer, seller)
    from app.idempotency import request_fingerprint

    with client.application.test_request_context(
        PAYOUTS, method="POST", json={"amount_cents": 100}
    ):
        body_hash = request_fingerprint()
    _claim(seller.organization_id, "dead", body_hash, utcnow() - timedelta(hours=1))
    response = client.post(
        PAYOUTS, json={"amount_cents": 100}, headers={**auth(seller), "Idempotency-Key": "dead"}
    )
    assert response.status_code == 201
    stored = db.session.scalar(select(IdempotencyKey))
    db.session.refresh(stored)
    assert stored.response_status == 201


def test_key_order_in_the_body_does_not_matter_but_the_endpoint_does(client, buyer, seller, auth):
    _ready_seller(buyer, seller)
    headers = {**auth(seller), "Idempotency-Key": "same", "Content-Type": "application/json"}
    first = client.post(PAYOUTS, data='{"amount_cents": 100}', headers=headers)
    again = client.post(PAYOUTS, data='{ "amount_cents" :100 }', headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    elsewhere = client.put(
        "/api/v1/billing/payout-details", json={"bank_details": "x"}, headers=headers
    )
    assert elsewhere.status_code == 200  # not an idempotent endpoint: the header is ignored
    reused = client.post(
        "/api/v1/billing/refunds",
        json={"amount_cents": 100},
        headers={**auth(buyer), "Idempotency-Key": "same"},
    )
    assert reused.status_code != 409  # keys belong to one organisation


def test_a_key_that_is_too_long_is_refused(client, seller, auth):
    response = client.post(
        PAYOUTS, json={}, headers={**auth(seller), "Idempotency-Key": "k" * 300}
    )
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "invalid_idempotency_key"
    assert db.session.scalar(select(func.count()).select_from(IdempotencyKey)) == 0


def test_openapi_documents_the_header(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    params = spec["paths"]["/api/v1/billing/top-ups"]["post"]["parameters"]
    header = next(p for p in params if p["name"] == "Idempotency-Key")
    assert header["in"] == "header" and header["required"] is True
    webhook = spec["paths"]["/api/v1/billing/stripe/webhook"]["post"]
    assert webhook.get("security") == []
