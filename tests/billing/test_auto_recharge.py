"""Auto-recharge: one off-session charge per trigger; a failure turns it off and says why."""

import pytest
from sqlalchemy import select

from app.db import transaction
from app.extensions import db
from billing import queries, services
from billing.models import AutoRecharge, TopUp
from billing.signals import auto_recharge_failed
from tests.billing.helpers import make_org, payment_intents, sell
from tests.helpers import PASSWORD, csrf_token

pytestmark = pytest.mark.stripe


def setup_buyer(buyer, card: str, funds: int = 3000) -> int:
    org = buyer.organization_id
    services.add_payment_method(buyer_org_id=org, payment_method="pm_card_visa")
    services.create_top_up(buyer_org_id=org, amount_cents=funds, idempotency_key="funds")
    if card != "pm_card_visa":
        services.add_payment_method(buyer_org_id=org, payment_method=card)
    return org


def test_auto_recharge_needs_a_card(client, buyer, auth, stripe_server):
    response = client.put(
        "/api/v1/billing/auto-recharge",
        headers=auth(buyer),
        json={"enabled": True, "threshold_cents": 2000, "amount_cents": 5000},
    )
    assert response.status_code == 422
    assert "payment_method" in response.get_json()["error"]["details"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"enabled": True, "threshold_cents": -1, "amount_cents": 5000}, "threshold_cents"),
        ({"enabled": True, "threshold_cents": 2000, "amount_cents": 499}, "amount_cents"),
        ({"enabled": True, "threshold_cents": 2000, "amount_cents": 50.5}, "amount_cents"),
        ({"enabled": "yes please", "threshold_cents": 2000, "amount_cents": 5000}, "enabled"),
        ({"enabled": True, "threshold_cents": 2000}, "amount_cents"),
    ],
)
def test_bad_auto_recharge_settings_are_422(client, buyer, auth, stripe_server, body, field):
    """A buyer with a card, so only the bad field can be what is refused; nothing changes."""
    services.add_payment_method(buyer_org_id=buyer.organization_id, payment_method="pm_card_visa")
    headers = auth(buyer)
    response = client.put("/api/v1/billing/auto-recharge", headers=headers, json=body)
    assert response.status_code == 422
    assert field in response.get_json()["error"]["details"]
    wallet = client.get("/api/v1/billing/wallet", headers=headers).get_json()
    assert wallet["auto_recharge"]["enabled"] is False
    good = {"enabled": True, "threshold_cents": 2000, "amount_cents": 5000}
    response = client.put("/api/v1/billing/auto-recharge", headers=headers, json=good)
    assert response.status_code == 200  # the same buyer's valid settings are taken


def test_a_purchase_under_the_threshold_recharges_once(client, buyer, auth, stripe_server):
    org = setup_buyer(buyer, "pm_card_visa")
    response = client.put(
        "/api/v1/billing/auto-recharge",
        headers=auth(buyer),
        json={"enabled": True, "threshold_cents": 2000, "amount_cents": 5000},
    )
    assert response.status_code == 200
    assert response.get_json()["auto_recharge"] == {
        "enabled": True,
        "threshold_cents": 2000,
        "amount_cents": 5000,
        "disabled_reason": None,
        "disabled_at": None,
    }
    sell(org, make_org("seller"), 1500)
    assert services.maybe_auto_recharge(org) is True  # the task ran (eager in tests)
    assert queries.get_wallet_balance(org) == 1500 + 5000
    assert services.maybe_auto_recharge(org) is False  # above the threshold again
    recharges = db.session.scalars(select(TopUp).where(TopUp.trigger == "auto_recharge")).all()
    assert [(t.status, t.amount_cents) for t in recharges] == [("succeeded", 5000)]
    assert len(payment_intents(stripe_server)) == 2
    # The same trigger run twice (a redelivered task) charges once.
    setting = db.session.get(AutoRecharge, org)
    assert services.run_auto_recharge(buyer_org_id=org, trigger=setting.trigger_count) is None
    assert len(payment_intents(stripe_server)) == 2


def test_a_recharge_in_flight_absorbs_further_triggers(buyer, stripe_server):
    org = setup_buyer(buyer, "pm_card_visa", funds=500)
    services.set_auto_recharge(
        buyer_org_id=org, is_enabled=True, threshold_cents=2000, amount_cents=5000
    )
    with transaction():
        db.session.get(AutoRecharge, org).is_running = True
    assert services.maybe_auto_recharge(org) is False
    assert queries.get_wallet_balance(org) == 500


def test_a_failed_recharge_turns_it_off_pauses_auto_buy_and_says_why(
    client, buyer, auth, stripe_server
):
    org = setup_buyer(buyer, "pm_card_chargeCustomerFail")
    services.set_auto_recharge(
        buyer_org_id=org, is_enabled=True, threshold_cents=2000, amount_cents=5000
    )
    paused = []

    def pause_auto_buy(sender, organization_id, reason, top_up_id):
        paused.append((organization_id, top_up_id))

    sell(org, make_org("seller"), 1500)
    with auto_recharge_failed.connected_to(pause_auto_buy):
        assert services.maybe_auto_recharge(org) is True
    setting = db.session.get(AutoRecharge, org)
    db.session.refresh(setting)
    assert setting.is_enabled is False and setting.is_running is False
    assert "declined" in setting.disabled_reason
    failed = db.session.scalar(select(TopUp).where(TopUp.trigger == "auto_recharge"))
    assert failed.status == "failed"
    assert paused == [(org, failed.id)]
    assert queries.get_wallet_balance(org) == 1500
    assert services.maybe_auto_recharge(org) is False  # off until the buyer turns it on
    # The buyer sees why on the billing page.
    client.post(
        "/login",
        data={
            "email": buyer.email,
            "password": PASSWORD,
            "csrf_token": csrf_token(client, "/login"),
        },
    )
    page = client.get("/billing").get_data(as_text=True)
    assert "Auto-recharge is off" in page and "declined" in page
    wallet = client.get("/api/v1/billing/wallet", headers=auth(buyer)).get_json()
    assert wallet["auto_recharge"]["enabled"] is False
    assert "declined" in wallet["auto_recharge"]["disabled_reason"]


def test_maybe_auto_recharge_refuses_to_run_inside_a_transaction(buyer):
    with pytest.raises(RuntimeError), transaction():
        services.maybe_auto_recharge(buyer.organization_id)
