"""`flask billing reconcile`: differences both ways, exit 1 when there is one."""

import pytest
from sqlalchemy import delete

from app.db import transaction
from app.extensions import db
from billing import services
from billing.errors import CardDeclined
from billing.models import TopUp
from billing.reconcile import reconcile
from tests.billing.helpers import fund_wallet

pytestmark = pytest.mark.stripe


@pytest.fixture
def paid(buyer, stripe_server):
    org = buyer.organization_id
    services.add_payment_method(buyer_org_id=org, payment_method="pm_card_visa")
    return services.create_top_up(buyer_org_id=org, amount_cents=5000, idempotency_key="a")


def test_books_that_agree_exit_0(runner, paid):
    result = runner.invoke(args=["billing", "reconcile"])
    assert result.exit_code == 0, result.output
    assert "1 top-ups, 1 PaymentIntents, 0 refunds: 0 difference(s)" in result.output


def test_a_top_up_missing_on_our_side_is_reported(runner, paid):
    pi = paid.stripe_payment_intent_id
    with transaction() as session:
        session.execute(delete(TopUp).where(TopUp.id == paid.id))
    result = runner.invoke(args=["billing", "reconcile"])
    assert result.exit_code == 1
    assert "missing_here" in result.output
    assert pi in result.output and "succeeded 5000 usd" in result.output
    # --fix does not invent top-ups: it is still reported and still exit 1.
    assert runner.invoke(args=["billing", "reconcile", "--fix"]).exit_code == 1


def test_a_top_up_stripe_never_saw_is_reported(runner, paid, buyer):
    fund_wallet(buyer.organization_id, 700)  # a PaymentIntent id Stripe does not know
    result = runner.invoke(args=["billing", "reconcile"])
    assert result.exit_code == 1
    assert "missing_at_stripe" in result.output


def test_an_amount_that_differs_is_reported(runner, paid):
    with transaction():
        db.session.get(TopUp, paid.id).amount_cents = 5001
    result = runner.invoke(args=["billing", "reconcile"])
    assert result.exit_code == 1
    assert "amount_differs" in result.output


def test_a_declined_top_up_matches_its_failed_payment_intent(runner, buyer, stripe_server):
    org = buyer.organization_id
    services.add_payment_method(buyer_org_id=org, payment_method="pm_card_chargeCustomerFail")
    with pytest.raises(CardDeclined):
        services.create_top_up(buyer_org_id=org, amount_cents=5000, idempotency_key="d")
    result = reconcile()
    assert result.differences == []
    assert result.payment_intents == 1


def test_a_pending_top_up_stripe_shows_failed_is_settled_by_fix(buyer, stripe_server):
    org = buyer.organization_id
    services.add_payment_method(buyer_org_id=org, payment_method="pm_card_chargeCustomerFail")
    with pytest.raises(CardDeclined):
        services.create_top_up(buyer_org_id=org, amount_cents=5000, idempotency_key="d")
    # As if the decline had never been recorded here.
    with transaction():
        top_up = db.session.query(TopUp).one()
        top_up.status, top_up.failure_code = "pending", None
    result = reconcile(fix=True)
    assert [(d.kind, d.fixed) for d in result.differences] == [("pending_here", "failed")]
    db.session.expire_all()
    assert db.session.query(TopUp).one().status == "failed"
