"""Wallet refunds to the card: newest top-up first, never more than paid in, once per key."""

import pytest
from sqlalchemy import select

from app.extensions import db
from billing import ledger, queries
from billing.models import TopUp
from tests.billing.helpers import make_org, sell, stripe_refunds
from tests.helpers import make_user

pytestmark = pytest.mark.stripe

REFUNDS = "/api/v1/billing/refunds"


@pytest.fixture
def headers(client, stripe_server, buyer, auth):
    headers = auth(buyer)
    assert (
        client.post(
            "/api/v1/billing/payment-methods",
            json={"payment_method": "pm_card_visa"},
            headers=headers,
        ).status_code
        == 201
    )
    return headers


def top_up(client, headers, cents, key):
    response = client.post(
        "/api/v1/billing/top-ups",
        json={"amount_cents": cents},
        headers={**headers, "Idempotency-Key": key},
    )
    assert response.status_code == 201
    return db.session.get(TopUp, response.get_json()["id"])


def test_refund_goes_to_the_newest_top_ups_first(client, buyer, headers, stripe_server):
    older = top_up(client, headers, 5000, "older")
    newer = top_up(client, headers, 3000, "newer")
    sell(buyer.organization_id, make_org("seller"), 2000)  # 60.00 left unspent
    response = client.post(REFUNDS, json={"amount_cents": 6000}, headers=headers)
    assert response.status_code == 201
    body = response.get_json()
    assert body["status"] == "succeeded" and body["amount_cents"] == 6000
    assert [(p["top_up_id"], p["amount_cents"]) for p in body["parts"]] == [
        (newer.id, 3000),
        (older.id, 3000),
    ]
    at_stripe = {(r["payment_intent"], r["amount"]) for r in stripe_refunds(stripe_server)}
    assert at_stripe == {
        (newer.stripe_payment_intent_id, 3000),
        (older.stripe_payment_intent_id, 3000),
    }
    assert queries.get_wallet_balance(buyer.organization_id) == 0
    assert ledger.balance_of("refunds") == 6000
    assert ledger.check() == []


def test_refund_is_never_more_than_the_wallet_or_what_was_paid_in(
    client, buyer, headers, stripe_server
):
    top_up(client, headers, 5000, "only")
    too_much = client.post(REFUNDS, json={"amount_cents": 5001}, headers=headers)
    assert too_much.status_code == 402
    assert too_much.get_json()["error"]["code"] == "insufficient_funds"
    for cents in (2000, 3000):
        assert (
            client.post(REFUNDS, json={"amount_cents": cents}, headers=headers).status_code == 201
        )
    refunded = sum(r["amount"] for r in stripe_refunds(stripe_server))
    assert refunded == 5000
    assert client.post(REFUNDS, json={"amount_cents": 1}, headers=headers).status_code == 402
    assert db.session.scalar(select(TopUp)).refunded_cents == 5000


def test_same_key_refunds_once(client, buyer, headers, stripe_server):
    top_up(client, headers, 5000, "funds")
    key = {**headers, "Idempotency-Key": "refund-1"}
    first = client.post(REFUNDS, json={"amount_cents": 1000}, headers=key)
    second = client.post(REFUNDS, json={"amount_cents": 1000}, headers=key)
    assert first.status_code == second.status_code == 201
    assert first.get_json()["id"] == second.get_json()["id"]
    assert len(stripe_refunds(stripe_server)) == 1
    assert client.post(REFUNDS, json={"amount_cents": 999}, headers=key).status_code == 409
    assert queries.get_wallet_balance(buyer.organization_id) == 4000


@pytest.mark.parametrize("amount", [0, -1, 1.5, "100", None, 10**20])
def test_bad_refund_amounts_are_422_and_move_nothing(
    client, buyer, headers, stripe_server, amount
):
    top_up(client, headers, 5000, "funds")
    response = client.post(REFUNDS, json={"amount_cents": amount}, headers=headers)
    assert response.status_code == 422
    assert "amount_cents" in response.get_json()["error"]["details"]
    assert queries.get_wallet_balance(buyer.organization_id) == 5000
    assert client.get(REFUNDS, headers=headers).get_json()["items"] == []
    assert stripe_refunds(stripe_server) == []


def test_refund_while_stripe_is_down_keeps_the_money_in_the_wallet(
    client, buyer, headers, stripe_down, stripe_server
):
    top_up(client, headers, 5000, "funds")
    key = {**headers, "Idempotency-Key": "refund-down"}
    with stripe_down():
        response = client.post(REFUNDS, json={"amount_cents": 1000}, headers=key)
    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == "payment_provider_unavailable"
    assert queries.get_wallet_balance(buyer.organization_id) == 5000
    assert stripe_refunds(stripe_server) == []
    retry = client.post(REFUNDS, json={"amount_cents": 1000}, headers=key)
    assert retry.status_code == 201 and retry.get_json()["status"] == "succeeded"
    assert queries.get_wallet_balance(buyer.organization_id) == 4000
    assert ledger.check() == []


def test_another_organisations_refund_is_404(client, headers, auth):
    top_up(client, headers, 5000, "funds")
    refund = client.post(REFUNDS, json={"amount_cents": 700}, headers=headers).get_json()
    other = auth(make_user("buyer"))
    assert client.get(f"{REFUNDS}/{refund['id']}", headers=other).status_code == 404
    assert client.get(f"{REFUNDS}/{refund['id']}", headers=headers).status_code == 200
    assert client.get(REFUNDS, headers=other).get_json()["items"] == []
