"""Cards and top-ups through the API against the local Stripe server."""

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.idempotency import IdempotencyKey
from billing import ledger, queries
from billing.models import StripeCustomer, TopUp
from tests.billing.helpers import payment_intents, stripe_get
from tests.helpers import csrf_token, log_in, make_user

pytestmark = pytest.mark.stripe

TOP_UPS = "/api/v1/billing/top-ups"
CARDS = "/api/v1/billing/payment-methods"


def add_card(client, headers, token="pm_card_visa"):
    response = client.post(CARDS, json={"payment_method": token}, headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def top_up(client, headers, cents, key):
    return client.post(
        TOP_UPS, json={"amount_cents": cents}, headers={**headers, "Idempotency-Key": key}
    )


@pytest.fixture
def buyer_headers(stripe_server, buyer, auth):
    return auth(buyer)


def test_same_key_twice_is_one_payment_intent_and_wallet_5000(
    client, buyer, buyer_headers, stripe_server
):
    card = add_card(client, buyer_headers)
    assert card["brand"] == "visa" and card["last4"] == "4242" and card["is_default"] is True
    first = top_up(client, buyer_headers, 5000, "top-up-1")
    second = top_up(client, buyer_headers, 5000, "top-up-1")
    assert first.status_code == second.status_code == 201
    assert first.get_json() == second.get_json()
    assert first.get_json()["status"] == "succeeded"
    assert second.headers.get("Idempotent-Replayed") == "true"
    assert len(payment_intents(stripe_server)) == 1
    wallet = client.get("/api/v1/billing/wallet", headers=buyer_headers).get_json()
    assert wallet["balance_cents"] == 5000 and wallet["currency"] == "usd"
    assert ledger.check() == []


def test_same_key_with_another_body_is_409_and_charges_nothing(
    client, buyer_headers, stripe_server
):
    add_card(client, buyer_headers)
    assert top_up(client, buyer_headers, 5000, "k").status_code == 201
    again = top_up(client, buyer_headers, 6000, "k")
    assert again.status_code == 409
    assert again.get_json()["error"]["code"] == "idempotency_key_reused"
    assert len(payment_intents(stripe_server)) == 1
    assert queries.get_wallet_balance(db.session.scalar(select(TopUp.organization_id))) == 5000


def test_top_up_needs_an_idempotency_key(client, buyer_headers):
    add_card(client, buyer_headers)
    response = client.post(TOP_UPS, json={"amount_cents": 5000}, headers=buyer_headers)
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "idempotency_key_required"
    assert db.session.scalar(select(func.count()).select_from(TopUp)) == 0


def test_declined_card_is_402_wallet_unchanged_and_failed_top_up_listed(
    client, buyer, buyer_headers, stripe_server
):
    add_card(client, buyer_headers, "pm_card_chargeCustomerFail")
    response = top_up(client, buyer_headers, 5000, "declined-1")
    assert response.status_code == 402
    error = response.get_json()["error"]
    assert error["code"] == "card_declined"
    assert "declined" in error["message"]
    assert queries.get_wallet_balance(buyer.organization_id) == 0
    listed = client.get(TOP_UPS, headers=buyer_headers).get_json()["items"]
    assert [(t["status"], t["amount_cents"], t["failure_code"]) for t in listed] == [
        ("failed", 5000, "card_declined")
    ]
    # The same key again answers the same, without a second charge.
    again = top_up(client, buyer_headers, 5000, "declined-1")
    assert again.status_code == 402
    assert len(payment_intents(stripe_server)) == 1
    assert queries.get_wallet_balance(buyer.organization_id) == 0


def test_card_declined_at_attach_is_402(client, buyer_headers):
    response = client.post(
        CARDS, json={"payment_method": "pm_card_visa_chargeDeclined"}, headers=buyer_headers
    )
    assert response.status_code == 402
    assert response.get_json()["error"]["code"] == "card_declined"
    assert client.get(CARDS, headers=buyer_headers).get_json()["items"] == []


def test_unknown_card_token_is_422(client, buyer_headers):
    response = client.post(
        CARDS, json={"payment_method": "pm_nope_nothing"}, headers=buyer_headers
    )
    assert response.status_code == 422
    assert "payment_method" in response.get_json()["error"]["details"]
    for bad in ("", "card_123", 42, None, "pm_" + "x" * 80, "pm_a;b"):
        response = client.post(CARDS, json={"payment_method": bad}, headers=buyer_headers)
        assert response.status_code == 422, bad


def test_top_up_without_a_card_is_422_naming_it(client, buyer_headers, stripe_server):
    response = top_up(client, buyer_headers, 5000, "no-card")
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "no_payment_method"
    assert "payment_method" in error["details"]
    assert payment_intents(stripe_server) == []
    assert db.session.scalar(select(func.count()).select_from(IdempotencyKey)) == 0


@pytest.mark.parametrize(
    "amount", [-500, 0, 499, 50.5, 5000.0, "5000", "50.00", True, None, 1_000_001, 10**30, [5000]]
)
def test_bad_amounts_are_422_and_charge_nothing(client, buyer_headers, stripe_server, amount):
    add_card(client, buyer_headers)
    response = client.post(
        TOP_UPS,
        json={"amount_cents": amount},
        headers={**buyer_headers, "Idempotency-Key": f"bad-{amount!r}"},
    )
    assert response.status_code == 422
    assert "amount_cents" in response.get_json()["error"]["details"]
    assert payment_intents(stripe_server) == []


def test_top_up_limits_are_5_and_10000_dollars(client, buyer, buyer_headers):
    add_card(client, buyer_headers)
    assert top_up(client, buyer_headers, 500, "low").status_code == 201
    assert top_up(client, buyer_headers, 1_000_000, "high").status_code == 201
    assert queries.get_wallet_balance(buyer.organization_id) == 1_000_500


def test_one_customer_per_organisation_made_on_first_need(
    client, buyer, buyer_headers, stripe_server
):
    assert db.session.get(StripeCustomer, buyer.organization_id) is None
    add_card(client, buyer_headers)
    second = add_card(client, buyer_headers)
    customer = db.session.get(StripeCustomer, buyer.organization_id)
    assert customer is not None
    assert len(stripe_get(stripe_server, "customers")["data"]) == 1
    cards = client.get(CARDS, headers=buyer_headers).get_json()["items"]
    assert [c["is_default"] for c in cards] == [True, False]
    assert cards[0]["id"] == second["id"]
    stripe_customer = stripe_get(stripe_server, f"customers/{customer.stripe_customer_id}")
    assert stripe_customer["invoice_settings"]["default_payment_method"] == second["id"]


def test_removing_the_default_card_makes_the_next_one_default(
    client, buyer_headers, stripe_server
):
    first = add_card(client, buyer_headers)
    second = add_card(client, buyer_headers)
    response = client.delete(f"{CARDS}/{second['id']}", headers=buyer_headers)
    assert response.status_code == 204
    cards = client.get(CARDS, headers=buyer_headers).get_json()["items"]
    assert [(c["id"], c["is_default"]) for c in cards] == [(first["id"], True)]
    assert stripe_get(stripe_server, f"payment_methods/{second['id']}")["customer"] is None


def test_another_organisations_cards_and_top_ups_are_404(client, buyer_headers, auth):
    card = add_card(client, buyer_headers)
    created = top_up(client, buyer_headers, 5000, "mine").get_json()
    other = auth(make_user("buyer"))
    assert client.get(f"{TOP_UPS}/{created['id']}", headers=other).status_code == 404
    assert client.get(f"{TOP_UPS}/{created['id']}", headers=buyer_headers).status_code == 200
    assert client.delete(f"{CARDS}/{card['id']}", headers=other).status_code == 404
    assert client.get(TOP_UPS, headers=other).get_json()["items"] == []
    # Attaching someone else's card id is refused without saying whose it is.
    response = client.post(CARDS, json={"payment_method": card["id"]}, headers=other)
    assert response.status_code == 422


def test_another_buyers_card_id_gets_exactly_the_answer_an_unknown_id_gets(
    client, buyer_headers, auth
):
    """Never a hint that the card exists (security review L4), over the API and the page."""
    card = add_card(client, buyer_headers)
    someone = make_user("buyer")
    other = auth(someone)
    unknown = client.post(CARDS, json={"payment_method": "pm_nope_nothing"}, headers=other)
    theirs = client.post(CARDS, json={"payment_method": card["id"]}, headers=other)
    assert unknown.status_code == theirs.status_code == 422
    assert unknown.get_json()["error"]["code"] == "invalid_payment_method"
    assert theirs.get_json() == unknown.get_json()
    log_in(client, someone)

    def page_post(payment_method):
        headers = {"X-CSRFToken": csrf_token(client, "/billing"), "Accept": "application/json"}
        body = {"payment_method": payment_method}
        return client.post("/billing/cards", json=body, headers=headers)

    on_page = [page_post(pm) for pm in ("pm_nope_nothing", card["id"])]
    assert [r.status_code for r in on_page] == [422, 422]
    assert on_page[0].get_json() == on_page[1].get_json() == unknown.get_json()
    assert client.get(CARDS, headers=other).get_json()["items"] == []


def test_sellers_and_admins_have_no_wallet(client, seller, admin, auth):
    for user in (seller, admin):
        response = client.get("/api/v1/billing/wallet", headers=auth(user))
        assert response.status_code == 403
    assert client.get("/api/v1/billing/wallet").status_code == 401
