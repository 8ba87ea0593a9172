"""`flask demo` step: fund the demo buyer's wallet by card through the local Stripe server."""

from __future__ import annotations

from app.errors import AppError
from app.money import dollars
from billing import queries, services
from billing import stripe_gateway as gateway

DEMO_TOP_UP_CENTS = 50_000
DEMO_KEY = "demo:initial-funding"


def fund_demo_buyer(users: dict) -> list[str]:
    buyer = users.get("buyer")
    if buyer is None:
        return []
    org = buyer.organization_id
    if not gateway.is_reachable():
        return [
            "Billing: the local Stripe server is not reachable; the demo buyer's wallet "
            "was not funded (start localstripe and run `flask demo` again)."
        ]
    try:
        if queries.get_default_payment_method(org) is None:
            services.add_payment_method(buyer_org_id=org, payment_method="pm_card_visa")
        top_up = services.create_top_up(
            buyer_org_id=org, amount_cents=DEMO_TOP_UP_CENTS, idempotency_key=DEMO_KEY
        )
    except AppError as exc:
        return [f"Billing: the demo buyer's wallet was not funded: {exc.message}"]
    balance = queries.get_wallet_balance(org)
    state = "" if top_up.status == "succeeded" else f" (top-up {top_up.status})"
    return [
        f"Billing: demo buyer's wallet holds {dollars(balance)}{state}, "
        "card Visa •••• 4242 on file."
    ]
