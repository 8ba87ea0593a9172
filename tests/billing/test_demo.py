"""`flask demo` funds the demo buyer's wallet through the local Stripe server, once."""

import pytest
from sqlalchemy import select

from app.auth.models import User
from app.extensions import db
from billing import queries
from tests.billing.helpers import payment_intents


@pytest.mark.stripe
def test_demo_funds_the_demo_buyer_once(runner, stripe_server):
    first = runner.invoke(args=["demo"])
    assert first.exit_code == 0, first.output
    assert "demo buyer's wallet holds $500.00" in first.output
    second = runner.invoke(args=["demo"])
    assert second.exit_code == 0, second.output
    buyer = db.session.scalar(select(User).where(User.email_key == "buyer@demo.example.com"))
    assert queries.get_wallet_balance(buyer.organization_id) == 50_000
    assert len(payment_intents(stripe_server)) == 1


def test_demo_says_so_when_the_local_stripe_server_is_not_there(app, runner):
    from tests.plugins.stripe import free_port

    previous = app.config["STRIPE_API_BASE"]
    app.config["STRIPE_API_BASE"] = f"http://127.0.0.1:{free_port()}"
    try:
        result = runner.invoke(args=["demo"])
    finally:
        app.config["STRIPE_API_BASE"] = previous
    assert result.exit_code == 0, result.output
    assert "local Stripe server is not reachable" in result.output
