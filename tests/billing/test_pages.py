"""The billing pages through the test client: buyer billing, seller earnings, admin money."""

import re
import uuid

import pytest
from sqlalchemy import select

from app.extensions import db
from billing import queries, services
from billing.models import Payout
from tests.billing.helpers import fund_wallet, payment_intents, sell
from tests.helpers import csrf_token, log_in


def form_post(client, path, page, **data):
    return client.post(
        path, data={"csrf_token": csrf_token(client, page), **data}, follow_redirects=True
    )


def test_pages_are_for_their_role(client, buyer, seller, admin):
    assert client.get("/billing").status_code == 302  # to the log-in page
    log_in(client, seller)
    assert client.get("/billing").status_code == 403
    assert client.get("/admin/money").status_code == 403
    assert client.get("/billing/earnings").status_code == 200
    client.post("/logout", data={"csrf_token": csrf_token(client, "/dashboard")})
    log_in(client, buyer)
    assert client.get("/billing/earnings").status_code == 403
    assert client.get("/billing").status_code == 200


def test_buyer_page_loads_stripe_js_from_the_local_server(app, client, buyer):
    log_in(client, buyer)
    page = client.get("/billing").get_data(as_text=True)
    base = app.config["STRIPE_API_BASE"]
    assert f'<script src="{base}/js.stripe.com/v3/"></script>' in page
    assert 'id="card-element"' in page
    assert "Add a card first" in page
    dashboard = client.get("/dashboard").get_data(as_text=True)
    assert 'href="/billing"' in dashboard and "Balance $0.00" in dashboard


@pytest.mark.stripe
def test_buyer_tops_up_by_form_once_per_submitted_form(client, buyer, stripe_server):
    log_in(client, buyer)
    setup = client.post(
        "/billing/cards/setup",
        headers={"X-CSRFToken": csrf_token(client, "/billing"), "Accept": "application/json"},
    )
    assert setup.status_code == 200 and setup.get_json()["client_secret"].startswith("seti_")
    saved = client.post(
        "/billing/cards",
        json={"payment_method": "pm_card_visa"},
        headers={"X-CSRFToken": csrf_token(client, "/billing")},
    )
    assert saved.status_code == 201 and saved.get_json()["last4"] == "4242"
    request_id = uuid.uuid4().hex
    for _ in range(2):  # a double click sends the same form twice
        page = form_post(
            client, "/billing/top-up", "/billing", amount="50.00", request_id=request_id
        )
    text = page.get_data(as_text=True)
    assert "$50.00 added to your wallet." in text
    assert queries.get_wallet_balance(buyer.organization_id) == 5000
    assert len(payment_intents(stripe_server)) == 1
    assert re.search(r'data-field="balance">\s*<span class="money">\$50\.00', text)
    csv = client.get("/billing/receipts.csv")
    assert csv.mimetype == "text/csv"
    lines = csv.get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert lines[0] == "date,kind,number,amount,currency,card,stripe_reference"
    assert ",top-up,T-1,50.00,USD,Visa •••• 4242,pi_" in lines[1]


@pytest.mark.stripe
@pytest.mark.parametrize("amount", ["50.005", "4.99", "10000.01", "-5", "abc", ""])
def test_bad_form_amounts_are_shown_and_charge_nothing(client, buyer, stripe_server, amount):
    services.add_payment_method(buyer_org_id=buyer.organization_id, payment_method="pm_card_visa")
    log_in(client, buyer)
    page = form_post(
        client, "/billing/top-up", "/billing", amount=amount, request_id=uuid.uuid4().hex
    ).get_data(as_text=True)
    assert "flash-error" in page
    assert payment_intents(stripe_server) == []


@pytest.mark.stripe
def test_declined_card_is_explained_on_the_page(client, buyer, stripe_server):
    services.add_payment_method(
        buyer_org_id=buyer.organization_id, payment_method="pm_card_chargeCustomerFail"
    )
    log_in(client, buyer)
    page = form_post(
        client, "/billing/top-up", "/billing", amount="20.00", request_id=uuid.uuid4().hex
    ).get_data(as_text=True)
    assert "Your card was declined." in page
    assert "badge-bad" in page  # the failed top-up is listed
    assert queries.get_wallet_balance(buyer.organization_id) == 0


@pytest.mark.stripe
def test_card_removal_auto_recharge_and_refund_forms(client, buyer, stripe_server):
    org = buyer.organization_id
    card = services.add_payment_method(buyer_org_id=org, payment_method="pm_card_visa")
    services.create_top_up(buyer_org_id=org, amount_cents=3000, idempotency_key="x")
    log_in(client, buyer)
    page = form_post(
        client,
        "/billing/auto-recharge",
        "/billing",
        enabled="y",
        threshold="20.00",
        amount="50.00",
    ).get_data(as_text=True)
    assert "Auto-recharge is on." in page
    assert queries.get_auto_recharge(org).threshold_cents == 2000
    page = form_post(
        client, "/billing/refund", "/billing", amount="10.00", request_id=uuid.uuid4().hex
    ).get_data(as_text=True)
    assert "$10.00 is on its way back to your card." in page
    assert queries.get_wallet_balance(org) == 2000
    page = form_post(
        client, f"/billing/cards/{card.stripe_payment_method_id}/remove", "/billing"
    ).get_data(as_text=True)
    assert "Card removed." in page
    assert form_post(client, "/billing/cards/pm_notmine/remove", "/billing").status_code == 404


def test_seller_earnings_page_details_and_payout(client, buyer, seller):
    fund_wallet(buyer.organization_id, 5000)
    sell(buyer.organization_id, seller.organization_id, 5000, days=-1)
    services.release_earnings()
    log_in(client, seller)
    page = client.get("/billing/earnings").get_data(as_text=True)
    assert "Say where we pay you first." in page and "$4,000.00" not in page
    assert "$40.00" in page
    page = form_post(
        client,
        "/billing/payout-details",
        "/billing/earnings",
        bank_details="ACME Leads Ltd\nIBAN DE89 3704 0044 0532 0130 00",
    ).get_data(as_text=True)
    assert "Your payout details are saved." in page
    page = form_post(
        client, "/billing/payouts", "/billing/earnings", amount="", request_id=uuid.uuid4().hex
    ).get_data(as_text=True)
    assert "Payout of $40.00 requested." in page
    page = form_post(
        client, "/billing/payouts", "/billing/earnings", amount="1.00", request_id=uuid.uuid4().hex
    ).get_data(as_text=True)
    assert "more than your available earnings" in page


def test_admin_money_page_marks_payouts_paid(client, buyer, seller, admin):
    fund_wallet(buyer.organization_id, 5000)
    sell(buyer.organization_id, seller.organization_id, 5000, days=-1)
    services.release_earnings()
    services.save_payout_details(seller_org_id=seller.organization_id, details="IBAN X")
    payout = services.request_payout(seller_org_id=seller.organization_id)
    log_in(client, admin)
    page = client.get("/admin/money").get_data(as_text=True)
    assert "Platform revenue" in page and "$10.00" in page and "IBAN X" in page
    page = form_post(
        client, f"/admin/payouts/{payout.id}/paid", "/admin/money", reference="TRF-77"
    ).get_data(as_text=True)
    assert f"Payout {payout.id} of $40.00 marked paid." in page
    assert db.session.scalar(select(Payout.status)) == "paid"
    assert "No payout is waiting." in page


@pytest.mark.stripe
def test_admin_runs_reconcile_from_the_page(client, buyer, admin, stripe_server):
    services.add_payment_method(buyer_org_id=buyer.organization_id, payment_method="pm_card_visa")
    services.create_top_up(
        buyer_org_id=buyer.organization_id, amount_cents=5000, idempotency_key="x"
    )
    log_in(client, admin)
    page = form_post(client, "/admin/money/reconcile", "/admin/money").get_data(as_text=True)
    assert "0 difference(s)" in page and "Our books and Stripe agree." in page


FORMS = {
    # path: (role, page, the amount field's label)
    "/billing/top-up": ("buyer", "/billing", "Amount (USD)"),
    "/billing/refund": ("buyer", "/billing", "Amount back to your card (USD)"),
    "/billing/auto-recharge": ("buyer", "/billing", "Add (USD)"),
    "/billing/payouts": ("seller", "/billing/earnings", "Amount (USD)"),
}


@pytest.mark.parametrize("amount", ["1e30", "-1e30", "-1", "NaN", "sNaN", "Infinity", "1e-9"])
@pytest.mark.parametrize("path", list(FORMS))
def test_absurd_amounts_get_the_fields_own_error_never_a_500(client, buyer, seller, path, amount):
    """Security review M5.6: the range is checked before ``amount % CENT`` can overflow."""
    role, page, label = FORMS[path]
    log_in(client, buyer if role == "buyer" else seller)
    fields = {"amount": amount, "request_id": uuid.uuid4().hex}
    if path == "/billing/auto-recharge":
        fields |= {"enabled": "y", "threshold": "20.00"}
    response = form_post(client, path, page, **fields)
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "flash-error" in text and f"{label}: " in text
    assert queries.get_wallet_balance(buyer.organization_id) == 0


@pytest.mark.parametrize("body", ["[]", '["pm_card_visa"]', '"pm_card_visa"', "42", "null"])
def test_card_endpoint_answers_a_body_that_is_not_an_object_with_400(client, buyer, body):
    """Security review M5.7: the JSON endpoint of the card form never 500s on a bad body."""
    log_in(client, buyer)
    response = client.post(
        "/billing/cards",
        data=body,
        headers={
            "X-CSRFToken": csrf_token(client, "/billing"),
            "Content-Type": "application/json",
            "Accept": "application/json",
        },
    )
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert set(error) == {"code", "message", "details"} and error["code"] == "bad_request"
    assert db.session.scalars(queries.list_payment_methods(buyer.organization_id)).all() == []


# --- a service's refusal is shown on the form that was sent ----------------------------------


def hidden_request_id(page: str) -> str:
    return re.search(r'name="request_id" type="hidden" value="([0-9a-f]{32})"', page).group(1)


def field_error(page: str, message: str) -> bool:
    return f'<small class="error">{message}</small>' in page


@pytest.fixture
def seller_with_earnings(buyer, seller):
    fund_wallet(buyer.organization_id, 5000)
    sell(buyer.organization_id, seller.organization_id, 5000, days=-1)
    services.release_earnings()
    services.save_payout_details(seller_org_id=seller.organization_id, details="IBAN X")
    return seller


def test_a_payout_above_the_available_earnings_is_shown_beside_the_amount_as_typed(
    client, seller_with_earnings
):
    log_in(client, seller_with_earnings)
    sent = uuid.uuid4().hex
    response = client.post(
        "/billing/payouts",
        data={
            "csrf_token": csrf_token(client, "/billing/earnings"),
            "amount": "41.00",
            "request_id": sent,
        },
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200  # the earnings page again, not a 422 error page
    assert "That is more than your available earnings." in page and "flash-error" in page
    assert field_error(page, "At most 4000 cents are available.")
    assert 'name="amount"' in page and 'value="41.00"' in page
    assert hidden_request_id(page) != sent  # a refused request is over; the next is new
    assert db.session.scalars(select(Payout)).all() == []


def test_a_payout_form_sent_again_with_another_amount_is_refused_on_the_form(
    client, seller_with_earnings
):
    log_in(client, seller_with_earnings)
    sent = uuid.uuid4().hex
    first = form_post(
        client, "/billing/payouts", "/billing/earnings", amount="10.00", request_id=sent
    )
    assert "Payout of $10.00 requested." in first.get_data(as_text=True)
    # The back button, another amount, the same form (so the same request id).
    again = client.post(
        "/billing/payouts",
        data={
            "csrf_token": csrf_token(client, "/billing/earnings"),
            "amount": "20.00",
            "request_id": sent,
        },
    )
    page = again.get_data(as_text=True)
    assert again.status_code == 200
    assert "That form was already sent with another amount" in page
    assert 'value="20.00"' in page and hidden_request_id(page) != sent
    assert [p.amount_cents for p in db.session.scalars(select(Payout))] == [1000]


def test_turning_auto_recharge_on_without_a_card_keeps_the_typed_setting(client, buyer):
    log_in(client, buyer)
    response = client.post(
        "/billing/auto-recharge",
        data={
            "csrf_token": csrf_token(client, "/billing"),
            "enabled": "y",
            "threshold": "12.34",
            "amount": "56.78",
        },
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Add a card before turning auto-recharge on." in page
    assert 'value="12.34"' in page and 'value="56.78"' in page
    assert queries.get_auto_recharge(buyer.organization_id) is None


@pytest.mark.stripe
def test_a_declined_top_up_is_shown_on_its_form_and_a_double_click_charges_once(
    client, buyer, stripe_server
):
    services.add_payment_method(
        buyer_org_id=buyer.organization_id, payment_method="pm_card_chargeCustomerFail"
    )
    log_in(client, buyer)
    sent = uuid.uuid4().hex
    for _ in range(2):  # a double click: the second is the first one's answer again
        response = client.post(
            "/billing/top-up",
            data={
                "csrf_token": csrf_token(client, "/billing"),
                "amount": "20.00",
                "request_id": sent,
            },
        )
        page = response.get_data(as_text=True)
        assert response.status_code == 200  # the billing page, not a 402 error page
        assert "Your card was declined." in page and "flash-error" in page
        assert 'value="20.00"' in page and hidden_request_id(page) != sent
    assert len(payment_intents(stripe_server)) == 1
    assert queries.get_wallet_balance(buyer.organization_id) == 0
    # The other money forms on the page are drawn fresh, not filled from the posted one.
    refund_form = page[page.index('action="/billing/refund"') :]
    assert 'value="20.00"' not in refund_form[: refund_form.index("</form>")]


@pytest.mark.stripe
def test_a_top_up_while_stripe_is_down_keeps_its_request_id_so_a_retry_charges_once(
    client, buyer, stripe_server, stripe_down
):
    services.add_payment_method(buyer_org_id=buyer.organization_id, payment_method="pm_card_visa")
    log_in(client, buyer)
    sent = uuid.uuid4().hex
    data = {"csrf_token": csrf_token(client, "/billing"), "amount": "30.00", "request_id": sent}
    with stripe_down():
        response = client.post("/billing/top-up", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "nothing was charged" in page and 'value="30.00"' in page
    assert hidden_request_id(page) == sent  # the same request, resumed when sent again
    retried = client.post("/billing/top-up", data=data, follow_redirects=True)
    assert "$30.00 added to your wallet." in retried.get_data(as_text=True)
    assert client.post("/billing/top-up", data=data).status_code == 302  # a third click
    assert len(payment_intents(stripe_server)) == 1
    assert queries.get_wallet_balance(buyer.organization_id) == 3000
