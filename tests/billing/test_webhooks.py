"""The Stripe webhook: signatures, once per event id, any order, refunds made outside Leadex,
and real deliveries from the local Stripe server."""

import io
import logging
import threading
import time
import uuid

import pytest
import requests
from sqlalchemy import func, select
from werkzeug.serving import make_server

from app.db import transaction
from app.extensions import db
from billing import ledger, queries, services
from billing.models import StripeEvent, TopUp, WalletRefund
from billing.stripe_gateway import PaymentIntentResult
from tests.billing.helpers import event, make_org, post_event, signed, stripe_get
from tests.plugins.stripe import free_port

WEBHOOK = "/api/v1/billing/stripe/webhook"


def pending_top_up(org_id: int, cents: int = 5000) -> TopUp:
    with transaction() as session:
        top_up = TopUp(
            organization_id=org_id,
            idempotency_key=uuid.uuid4().hex,
            amount_cents=cents,
            currency="usd",
            status="pending",
            trigger="manual",
        )
        session.add(top_up)
        session.flush()
        return top_up


def pi_object(top_up: TopUp, status: str = "succeeded", pi_id: str | None = None) -> dict:
    failed = status != "succeeded"
    return {
        "id": pi_id or f"pi_{uuid.uuid4().hex[:14]}",
        "object": "payment_intent",
        "amount": top_up.amount_cents,
        "currency": "usd",
        "status": "requires_payment_method" if failed else "succeeded",
        "metadata": {"leadex_top_up_id": str(top_up.id)},
        "latest_charge": {"id": f"ch_{uuid.uuid4().hex[:14]}", "object": "charge"},
        "last_payment_error": {"code": "card_declined", "message": "Your card was declined."}
        if failed
        else None,
    }


def events_stored() -> int:
    return db.session.scalar(select(func.count()).select_from(StripeEvent))


@pytest.fixture
def org():
    return make_org("buyer")


def test_valid_event_is_200_received(client, org):
    top_up = pending_top_up(org)
    response = post_event(client, event("payment_intent.succeeded", pi_object(top_up)))
    assert response.status_code == 200
    assert response.get_json() == {"received": True}
    assert queries.get_wallet_balance(org) == 5000


@pytest.mark.parametrize("forgery", ["wrong_secret", "tampered", "no_header", "stale", "junk"])
def test_forged_events_are_400_and_change_nothing(client, org, forgery):
    top_up = pending_top_up(org)
    evt = event("payment_intent.succeeded", pi_object(top_up))
    if forgery == "wrong_secret":
        body, headers = signed(evt, secret="whsec_someone_else")
    elif forgery == "stale":
        body, headers = signed(evt, timestamp=int(time.time()) - 3600)
    else:
        body, headers = signed(evt)
    if forgery == "tampered":
        body = body.replace(b'"amount": 5000', b'"amount": 9000')
    if forgery == "no_header":
        headers.pop("Stripe-Signature")
    if forgery == "junk":
        headers["Stripe-Signature"] = "t=1,v1=deadbeef"
    response = client.post(WEBHOOK, data=body, headers=headers)
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_signature"
    assert events_stored() == 0
    assert db.session.get(TopUp, top_up.id).status == "pending"
    assert queries.get_wallet_balance(org) == 0


def test_replayed_event_is_acknowledged_every_time_and_processed_once(client, org):
    top_up = pending_top_up(org)
    evt = event("payment_intent.succeeded", pi_object(top_up))
    for _ in range(3):
        assert post_event(client, evt).status_code == 200
    assert events_stored() == 1
    assert queries.get_wallet_balance(org) == 5000
    assert ledger.check() == []


def test_unknown_event_types_are_acknowledged_and_ignored(client):
    evt = event("customer.created", {"id": "cus_123", "object": "customer"})
    assert post_event(client, evt).status_code == 200
    stored = db.session.get(StripeEvent, evt["id"])
    assert (stored.type, stored.outcome) == ("customer.created", "ignored")


def test_payment_intents_that_are_not_ours_are_ignored(client):
    evt = event(
        "payment_intent.succeeded",
        {
            "id": "pi_other",
            "amount": 100,
            "currency": "usd",
            "status": "succeeded",
            "metadata": {},
        },
    )
    assert post_event(client, evt).status_code == 200
    assert db.session.get(StripeEvent, evt["id"]).outcome == "ignored"


def test_late_failure_after_success_never_undoes_the_payment(client, org):
    top_up = pending_top_up(org)
    pi = pi_object(top_up)
    post_event(client, event("payment_intent.succeeded", pi))
    post_event(
        client, event("payment_intent.payment_failed", pi_object(top_up, "failed", pi_id=pi["id"]))
    )
    assert db.session.get(TopUp, top_up.id).status == "succeeded"
    assert queries.get_wallet_balance(org) == 5000


def test_success_arriving_after_a_failure_credits_once(client, org):
    top_up = pending_top_up(org)
    failed = pi_object(top_up, "failed")
    post_event(client, event("payment_intent.payment_failed", failed))
    assert db.session.get(TopUp, top_up.id).status == "failed"
    post_event(client, event("payment_intent.succeeded", pi_object(top_up, pi_id=failed["id"])))
    post_event(client, event("payment_intent.succeeded", pi_object(top_up, pi_id=failed["id"])))
    refreshed = db.session.get(TopUp, top_up.id)
    db.session.refresh(refreshed)
    assert refreshed.status == "succeeded"
    assert queries.get_wallet_balance(org) == 5000
    assert ledger.check() == []


def test_webhook_and_the_api_answer_credit_once_in_either_order(client, org):
    for webhook_first in (True, False):
        top_up = pending_top_up(org)
        pi = pi_object(top_up)
        answer = PaymentIntentResult(
            id=pi["id"],
            status="succeeded",
            amount_cents=5000,
            currency="usd",
            charge_id=None,
            metadata={},
        )
        if webhook_first:
            post_event(client, event("payment_intent.succeeded", pi))
        with transaction():
            outcome = services.apply_payment_intent(top_up.id, answer)
        assert outcome == ("unchanged" if webhook_first else "credited")
        if not webhook_first:
            post_event(client, event("payment_intent.succeeded", pi))
    assert queries.get_wallet_balance(org) == 10_000
    assert ledger.check() == []


def test_an_amount_that_differs_is_not_credited(client, org):
    top_up = pending_top_up(org, 5000)
    pi = pi_object(top_up) | {"amount": 4000}
    post_event(client, event("payment_intent.succeeded", pi))
    assert db.session.get(TopUp, top_up.id).status == "pending"
    assert queries.get_wallet_balance(org) == 0


@pytest.mark.stripe
def test_refund_made_at_stripe_is_taken_from_the_wallet_once(
    client, buyer, auth, stripe_server, runner
):
    headers = auth(buyer)
    client.post(
        "/api/v1/billing/payment-methods", json={"payment_method": "pm_card_visa"}, headers=headers
    )
    created = client.post(
        "/api/v1/billing/top-ups",
        json={"amount_cents": 5000},
        headers={**headers, "Idempotency-Key": "t"},
    ).get_json()
    top_up = db.session.get(TopUp, created["id"])
    # Someone refunds 15.00 in the Stripe dashboard; Stripe tells us with charge.refunded.
    requests.post(
        f"{stripe_server}/v1/refunds",
        data={"payment_intent": top_up.stripe_payment_intent_id, "amount": 1500},
        headers={"Authorization": "Bearer sk_test_local"},
        timeout=10,
    ).raise_for_status()
    charge = stripe_get(stripe_server, f"charges/{top_up.stripe_charge_id}")
    evt = event("charge.refunded", charge)
    assert post_event(client, evt).status_code == 200
    assert post_event(client, event("charge.refunded", charge)).status_code == 200
    assert queries.get_wallet_balance(buyer.organization_id) == 3500
    refund = db.session.scalar(select(WalletRefund))
    assert (refund.source, refund.amount_cents, refund.status) == ("stripe", 1500, "succeeded")
    assert runner.invoke(args=["billing", "reconcile"]).exit_code == 0
    # Our own refunds, already recorded from Stripe's answer, are not taken twice.
    client.post("/api/v1/billing/refunds", json={"amount_cents": 500}, headers=headers)
    charge = stripe_get(stripe_server, f"charges/{top_up.stripe_charge_id}")
    post_event(client, event("charge.refunded", charge))
    assert queries.get_wallet_balance(buyer.organization_id) == 3000
    assert ledger.check() == []


def test_charge_refunded_without_the_refund_list_uses_the_refunded_total(client, org):
    top_up = pending_top_up(org)
    pi = pi_object(top_up)
    post_event(client, event("payment_intent.succeeded", pi))
    charge = {
        "id": "ch_x",
        "object": "charge",
        "payment_intent": pi["id"],
        "amount": 5000,
        "amount_refunded": 2000,
    }
    post_event(client, event("charge.refunded", charge))
    post_event(client, event("charge.refunded", charge))
    assert queries.get_wallet_balance(org) == 3000
    assert db.session.get(TopUp, top_up.id).refunded_cents == 2000


class ReadSpy(io.BytesIO):
    """A request body that remembers whether anyone read it."""

    was_read = False

    def read(self, *args):
        ReadSpy.was_read = True
        return super().read(*args)

    def readinto(self, buffer):
        ReadSpy.was_read = True
        return super().readinto(buffer)

    def readline(self, *args):
        ReadSpy.was_read = True
        return super().readline(*args)


def test_a_request_without_a_signature_is_refused_before_its_body_is_read(client):
    body = b'{"id": "evt_unsigned", "type": "payment_intent.succeeded"}'
    ReadSpy.was_read = False
    response = client.post(
        WEBHOOK,
        input_stream=ReadSpy(body),
        content_length=len(body),
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_signature"
    assert ReadSpy.was_read is False
    assert events_stored() == 0


def test_a_body_over_one_mebibyte_is_413_with_the_error_envelope(client):
    padding = "x" * (1024 * 1024)
    evt = event("customer.created", {"id": "cus_big", "object": "customer", "note": padding})
    body, headers = signed(evt)
    response = client.post(WEBHOOK, data=body, headers=headers)
    assert response.status_code == 413
    error = response.get_json()["error"]
    assert error["code"] == "too_large"
    assert set(error) == {"code", "message", "details"}
    assert events_stored() == 0
    # An event just under the limit is still read.
    evt["data"]["object"]["note"] = "x" * (1024 * 1024 - 1024)
    assert post_event(client, evt).status_code == 200


def _refunded_charge(pi: dict, **fields) -> dict:
    return {"id": "ch_m", "object": "charge", "payment_intent": pi["id"], **fields}


def _refund(pi: dict, **fields) -> dict:
    return {"id": "re_m", "object": "refund", "payment_intent": pi["id"], "metadata": {}} | fields


def _without(obj: dict, key: str) -> dict:
    return {k: v for k, v in obj.items() if k != key}


# Each builds a signed-but-malformed event from (the credited PaymentIntent, a pending top-up).
MALFORMED = {
    "refunded total is text": lambda pi, pending: (
        "charge.refunded",
        _refunded_charge(pi, amount_refunded="lots"),
    ),
    "refunded total is a numeric string": lambda pi, pending: (
        "charge.refunded",
        _refunded_charge(pi, amount_refunded="2000"),
    ),
    "refunded total is missing": lambda pi, pending: ("charge.refunded", _refunded_charge(pi)),
    "refunded total is negative": lambda pi, pending: (
        "charge.refunded",
        _refunded_charge(pi, amount_refunded=-2000),
    ),
    "a refund without its amount": lambda pi, pending: (
        "charge.refunded",
        _refunded_charge(pi, amount_refunded=1000, refunds={"data": [_refund(pi)]}),
    ),
    "a refund whose amount is text": lambda pi, pending: (
        "charge.refunded",
        _refunded_charge(pi, amount_refunded=1000, refunds={"data": [_refund(pi, amount="x")]}),
    ),
    "a refund that is not an object": lambda pi, pending: (
        "charge.refunded",
        _refunded_charge(pi, amount_refunded=1000, refunds={"data": ["re_m"]}),
    ),
    "a payment intent without metadata": lambda pi, pending: (
        "payment_intent.succeeded",
        _without(pi_object(pending), "metadata"),
    ),
    "metadata that is not an object": lambda pi, pending: (
        "payment_intent.succeeded",
        pi_object(pending) | {"metadata": "leadex"},
    ),
    "a top-up id that is not an integer": lambda pi, pending: (
        "payment_intent.succeeded",
        pi_object(pending) | {"metadata": {"leadex_top_up_id": "1.5"}},
    ),
    "a top-up id in superscript digits": lambda pi, pending: (
        "payment_intent.succeeded",
        pi_object(pending) | {"metadata": {"leadex_top_up_id": "\u00b2"}},
    ),
    "a top-up id beyond any integer column": lambda pi, pending: (
        "payment_intent.succeeded",
        pi_object(pending) | {"metadata": {"leadex_top_up_id": "9" * 20}},
    ),
    "a payment intent id that is a number": lambda pi, pending: (
        "payment_intent.succeeded",
        pi_object(pending) | {"id": 12345},
    ),
    "an amount that is a string": lambda pi, pending: (
        "payment_intent.succeeded",
        pi_object(pending) | {"amount": str(pending.amount_cents)},
    ),
    "an amount that is missing": lambda pi, pending: (
        "payment_intent.succeeded",
        _without(pi_object(pending), "amount"),
    ),
    "a failure code that is not text": lambda pi, pending: (
        "payment_intent.payment_failed",
        pi_object(pending, "failed") | {"last_payment_error": {"code": 402, "message": "no"}},
    ),
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_signed_but_malformed_events_are_400_logged_and_change_nothing(client, org, caplog, case):
    credited = pending_top_up(org)
    pi = pi_object(credited)
    assert post_event(client, event("payment_intent.succeeded", pi)).status_code == 200
    pending = pending_top_up(org, 3000)
    stored = events_stored()
    event_type, obj = MALFORMED[case](pi, pending)
    evt = event(event_type, obj)
    with caplog.at_level(logging.WARNING, logger="billing.webhooks"):
        response = post_event(client, evt)
    assert response.status_code == 400, response.get_json()
    assert response.get_json()["error"]["code"] == "malformed_event"
    assert events_stored() == stored
    assert db.session.get(TopUp, pending.id).status == "pending"
    assert db.session.get(TopUp, credited.id).refunded_cents == 0
    assert db.session.scalar(select(func.count()).select_from(WalletRefund)) == 0
    assert queries.get_wallet_balance(org) == 5000
    assert any(evt["id"] in record.getMessage() for record in caplog.records)
    assert ledger.check() == []


@pytest.fixture
def live_webhook(app, stripe_server):
    """Our app on a real port, registered as the local Stripe server's webhook endpoint."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}{WEBHOOK}"
    register = f"{stripe_server}/_config/webhooks/billing-tests"
    secret = app.config["STRIPE_WEBHOOK_SECRET"]
    # Events of earlier tests go out about a second after they happened: let them pass first.
    time.sleep(1.5)
    requests.post(register, data={"url": url, "secret": secret}, timeout=10).raise_for_status()
    yield url
    # Hooks cannot be deleted: point this one at a closed port so later tests get nothing.
    requests.post(
        register, data={"url": f"http://127.0.0.1:{free_port()}/", "secret": secret}, timeout=10
    )
    server.shutdown()


@pytest.mark.stripe
def test_local_stripe_server_delivers_signed_events_we_accept(
    client, buyer, auth, runner, live_webhook
):
    headers = auth(buyer)
    client.post(
        "/api/v1/billing/payment-methods", json={"payment_method": "pm_card_visa"}, headers=headers
    )
    response = client.post(
        "/api/v1/billing/top-ups",
        json={"amount_cents": 2500},
        headers={**headers, "Idempotency-Key": "live"},
    )
    assert response.status_code == 201
    pi_id = db.session.get(TopUp, response.get_json()["id"]).stripe_payment_intent_id
    deadline = time.monotonic() + 20  # localstripe sends ~1 s later; CI may be busy
    stored = None
    while time.monotonic() < deadline:
        db.session.expire_all()
        stored = db.session.scalar(
            select(StripeEvent).where(
                StripeEvent.type == "payment_intent.succeeded", StripeEvent.object_id == pi_id
            )
        )
        if stored is not None:
            break
        time.sleep(0.1)
    assert stored is not None, "the local Stripe server's event never arrived"
    assert stored.outcome == "unchanged"  # the answer had credited the wallet already
    assert queries.get_wallet_balance(buyer.organization_id) == 2500


def test_register_webhook_command(runner, stripe_server):
    result = runner.invoke(
        args=[
            "billing",
            "register-webhook",
            "--url",
            "http://127.0.0.1:9/api/v1/billing/stripe/webhook",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "go to http://127.0.0.1:9" in result.output
