"""The Stripe server down or losing its answers: a clear 503, no wallet change, nothing kept
under the Idempotency-Key, and the top-up completed later by a retry, the webhook or reconcile.
"""

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.idempotency import IdempotencyKey
from billing import ledger, queries
from billing.models import TopUp
from tests.billing.helpers import (
    AnswerLosingProxy,
    event,
    payment_intents,
    post_event,
    stripe_get,
)

pytestmark = pytest.mark.stripe

TOP_UPS = "/api/v1/billing/top-ups"


@pytest.fixture
def headers(client, stripe_server, buyer, auth):
    headers = auth(buyer)
    response = client.post(
        "/api/v1/billing/payment-methods", json={"payment_method": "pm_card_visa"}, headers=headers
    )
    assert response.status_code == 201
    return headers


@pytest.fixture
def answer_lost(app, stripe_server):
    proxy = AnswerLosingProxy(stripe_server)
    app.config["STRIPE_API_BASE"] = proxy.url
    yield proxy
    app.config["STRIPE_API_BASE"] = stripe_server
    proxy.close()


def top_up(client, headers, key, cents=5000):
    return client.post(
        TOP_UPS, json={"amount_cents": cents}, headers={**headers, "Idempotency-Key": key}
    )


def stored_keys() -> int:
    return db.session.scalar(select(func.count()).select_from(IdempotencyKey))


def test_stripe_down_is_503_nothing_kept_and_the_same_key_works_later(
    client, buyer, headers, stripe_down, stripe_server
):
    with stripe_down():
        response = top_up(client, headers, "while-down")
    assert response.status_code == 503
    error = response.get_json()["error"]
    assert error["code"] == "payment_provider_unavailable"
    assert "nothing was charged" in error["message"]
    assert queries.get_wallet_balance(buyer.organization_id) == 0
    assert stored_keys() == 0
    assert payment_intents(stripe_server) == []
    # Stripe is back: the client retries with the same key and is charged once.
    retry = top_up(client, headers, "while-down")
    assert retry.status_code == 201
    assert retry.get_json()["status"] == "succeeded"
    assert queries.get_wallet_balance(buyer.organization_id) == 5000
    assert len(payment_intents(stripe_server)) == 1
    statuses = sorted(t.status for t in db.session.scalars(select(TopUp)))
    assert statuses == ["failed", "succeeded"]  # the attempt that never left is on record
    assert ledger.check() == []


def test_card_saving_while_stripe_is_down_is_503(client, buyer, auth, stripe_down):
    with stripe_down():
        response = client.post(
            "/api/v1/billing/payment-methods",
            json={"payment_method": "pm_card_visa"},
            headers=auth(buyer),
        )
    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == "payment_provider_unavailable"


def _pending_after_lost_answer(client, buyer, headers, stripe_server, proxy):
    response = top_up(client, headers, "lost")
    assert response.status_code == 503
    error = response.get_json()["error"]
    assert error["code"] == "payment_provider_unavailable"
    assert error["details"]["status"] == "pending"
    assert proxy.forwarded == 1
    assert queries.get_wallet_balance(buyer.organization_id) == 0
    assert stored_keys() == 0
    (pi,) = payment_intents(stripe_server)
    assert pi["status"] == "succeeded"  # Stripe charged: only the answer was lost
    top_up_row = db.session.scalar(select(TopUp))
    assert top_up_row.status == "pending"
    return pi, top_up_row.id


def test_lost_answer_leaves_the_top_up_pending_until_the_webhook_credits_it_once(
    app, client, buyer, headers, stripe_server, answer_lost
):
    pi, top_up_id = _pending_after_lost_answer(client, buyer, headers, stripe_server, answer_lost)
    app.config["STRIPE_API_BASE"] = stripe_server
    # A retry with the same key does not charge again: it says the top-up is pending.
    retry = top_up(client, headers, "lost")
    assert retry.status_code == 201
    assert (retry.get_json()["id"], retry.get_json()["status"]) == (top_up_id, "pending")
    assert len(payment_intents(stripe_server)) == 1
    succeeded = event("payment_intent.succeeded", pi)
    assert post_event(client, succeeded).status_code == 200
    assert post_event(client, succeeded).status_code == 200  # delivered twice
    assert post_event(client, event("payment_intent.succeeded", pi)).status_code == 200
    assert queries.get_wallet_balance(buyer.organization_id) == 5000
    assert db.session.get(TopUp, top_up_id).status == "succeeded"
    assert ledger.check() == []


def test_lost_answer_is_settled_by_reconcile_fix(
    app, client, runner, buyer, headers, stripe_server, answer_lost
):
    _, top_up_id = _pending_after_lost_answer(client, buyer, headers, stripe_server, answer_lost)
    app.config["STRIPE_API_BASE"] = stripe_server
    report = runner.invoke(args=["billing", "reconcile"])
    assert report.exit_code == 1
    assert "pending_here" in report.output and f"top-up {top_up_id}" in report.output
    assert queries.get_wallet_balance(buyer.organization_id) == 0
    fixed = runner.invoke(args=["billing", "reconcile", "--fix"])
    assert fixed.exit_code == 0, fixed.output
    assert "fixed: credited" in fixed.output
    assert queries.get_wallet_balance(buyer.organization_id) == 5000
    clean = runner.invoke(args=["billing", "reconcile"])
    assert clean.exit_code == 0, clean.output
    assert "0 difference(s)" in clean.output


def test_reconcile_cannot_reach_stripe_is_a_clear_error(runner, stripe_down):
    with stripe_down():
        result = runner.invoke(args=["billing", "reconcile"])
    assert result.exit_code == 1
    assert "cannot reach Stripe" in result.output


def test_lost_refund_answer_is_settled_by_reconcile(
    app, client, runner, buyer, headers, stripe_server, answer_lost
):
    app.config["STRIPE_API_BASE"] = stripe_server
    assert top_up(client, headers, "funds").status_code == 201
    app.config["STRIPE_API_BASE"] = answer_lost.url
    response = client.post("/api/v1/billing/refunds", json={"amount_cents": 1200}, headers=headers)
    assert response.status_code == 201
    assert response.get_json()["status"] == "pending"
    app.config["STRIPE_API_BASE"] = stripe_server
    assert [r["amount"] for r in stripe_get(stripe_server, "refunds")["data"]] == [1200]
    assert queries.get_wallet_balance(buyer.organization_id) == 3800
    # Pending refunds are young: reconcile waits for them unless the grace has passed.
    from datetime import timedelta

    from billing.reconcile import reconcile

    result = reconcile(fix=True, grace=timedelta(0))
    assert [(d.kind, d.fixed) for d in result.differences] == [
        ("refund_pending_here", "succeeded")
    ]
    assert (
        client.get("/api/v1/billing/refunds", headers=headers).get_json()["items"][0]["status"]
        == "succeeded"
    )
    assert runner.invoke(args=["billing", "reconcile"]).exit_code == 0
    assert queries.get_wallet_balance(buyer.organization_id) == 3800
