"""/api/v1 endpoints of billing: wallet, cards, top-ups, refunds, earnings, payouts, ledger,
and the Stripe webhook."""

from __future__ import annotations

from flask import request

from app.api import ApiBlueprint, PageArgs, api_auth, current_api_user, page_schema, paginate
from app.errors import NotFound, error_responses
from app.extensions import db
from app.idempotency import current_key, idempotent
from billing import queries, services, webhooks
from billing import stripe_gateway as gateway
from billing.errors import WebhookSignatureInvalid
from billing.models import LedgerEntry, Payout, TopUp, WalletRefund
from billing.schemas import (
    AdminPayoutSchema,
    AutoRechargeArgs,
    EarningsSchema,
    LedgerArgs,
    LedgerEntrySchema,
    MarkPaidArgs,
    PaymentMethodArgs,
    PaymentMethodSchema,
    PayoutArgs,
    PayoutDetailsArgs,
    PayoutDetailsSchema,
    PayoutListArgs,
    PayoutSchema,
    RefundArgs,
    RefundSchema,
    SetupIntentSchema,
    TopUpArgs,
    TopUpListArgs,
    TopUpSchema,
    WalletSchema,
    WebhookAckSchema,
)

# Stripe's events are a few KiB; the app-wide limit is sized for lead files.
WEBHOOK_MAX_BYTES = 1024 * 1024

blp = ApiBlueprint(
    "billing_api", __name__, url_prefix="/api/v1", description="Wallet, cards, payouts, ledger"
)


def _org() -> int:
    return current_api_user().organization_id


def _service_key(prefix: str = "api") -> str | None:
    key = current_key()
    return f"{prefix}:{key}" if key else None


# --- wallet and auto-recharge ----------------------------------------------------------------


@blp.get("/billing/wallet")
@api_auth("buyer")
@blp.response(200, WalletSchema)
def get_wallet():
    return queries.get_wallet(_org())


@blp.put("/billing/auto-recharge")
@api_auth("buyer")
@blp.arguments(AutoRechargeArgs)
@blp.response(200, WalletSchema)
def put_auto_recharge(args):
    services.set_auto_recharge(
        buyer_org_id=_org(),
        is_enabled=args["enabled"],
        threshold_cents=args["threshold_cents"],
        amount_cents=args["amount_cents"],
        actor=current_api_user(),
    )
    return queries.get_wallet(_org())


# --- cards -----------------------------------------------------------------------------------


@blp.get("/billing/payment-methods")
@api_auth("buyer")
@blp.response(200, page_schema(PaymentMethodSchema, "PaymentMethodList"))
def list_payment_methods():
    items = db.session.scalars(queries.list_payment_methods(_org())).all()
    return {"items": items, "next_cursor": None}


@blp.post("/billing/payment-methods")
@error_responses(402, 502, 503)  # the payment provider declines, refuses or is down
@api_auth("buyer")
@idempotent()
@blp.arguments(PaymentMethodArgs)
@blp.response(201, PaymentMethodSchema)
def add_payment_method(args):
    return services.add_payment_method(
        buyer_org_id=_org(), payment_method=args["payment_method"], actor=current_api_user()
    )


@blp.delete("/billing/payment-methods/<payment_method_id>")
@error_responses(502, 503)  # the payment provider refuses or is down
@api_auth("buyer")
@blp.response(204)
def remove_payment_method(payment_method_id):
    services.remove_payment_method(
        buyer_org_id=_org(), payment_method_id=payment_method_id, actor=current_api_user()
    )
    return None


@blp.post("/billing/setup-intents")
@error_responses(502, 503)  # the payment provider refuses or is down
@api_auth("buyer")
@blp.response(201, SetupIntentSchema)
def create_setup_intent():
    """A SetupIntent for Stripe.js ``confirmCardSetup``; then POST the card's PaymentMethod id
    to /billing/payment-methods."""
    return services.create_card_setup(buyer_org_id=_org())


# --- top-ups and refunds ---------------------------------------------------------------------


@blp.get("/billing/top-ups")
@api_auth("buyer")
@blp.arguments(TopUpListArgs, location="query")
@blp.response(200, page_schema(TopUpSchema, "TopUpPage"))
def list_top_ups(args):
    return paginate(
        db.session,
        queries.list_top_ups(_org(), status=args["status"]),
        order=[(TopUp.id, True)],
        cursor=args["cursor"],
        limit=args["limit"],
    )


@blp.post("/billing/top-ups")
@error_responses(402, 502, 503)  # card declined; the provider refuses or is down
@api_auth("buyer")
@idempotent(required=True)
@blp.arguments(TopUpArgs)
@blp.response(201, TopUpSchema)
def create_top_up(args):
    return services.create_top_up(
        buyer_org_id=_org(), amount_cents=args["amount_cents"], idempotency_key=_service_key()
    )


@blp.get("/billing/top-ups/<int:top_up_id>")
@api_auth("buyer")
@blp.response(200, TopUpSchema)
def get_top_up(top_up_id):
    return queries.get_top_up_for(buyer_org_id=_org(), top_up_id=top_up_id)


@blp.get("/billing/refunds")
@api_auth("buyer")
@blp.arguments(PageArgs, location="query")
@blp.response(200, page_schema(RefundSchema, "RefundPage"))
def list_refunds(page):
    return paginate(
        db.session, queries.list_refunds(_org()), order=[(WalletRefund.id, True)], **page
    )


@blp.post("/billing/refunds")
@error_responses(402, 503)  # more than the wallet holds; the provider is down
@api_auth("buyer")
@idempotent()
@blp.arguments(RefundArgs)
@blp.response(201, RefundSchema)
def create_refund(args):
    return services.refund_wallet(
        buyer_org_id=_org(), amount_cents=args["amount_cents"], idempotency_key=_service_key()
    )


@blp.get("/billing/refunds/<int:refund_id>")
@api_auth("buyer")
@blp.response(200, RefundSchema)
def get_refund(refund_id):
    return queries.get_refund_for(buyer_org_id=_org(), refund_id=refund_id)


# --- sellers: earnings and payouts -------------------------------------------------------------


@blp.get("/billing/earnings")
@api_auth("seller")
@blp.response(200, EarningsSchema)
def get_earnings():
    return queries.get_earnings(_org())


@blp.get("/billing/payout-details")
@api_auth("seller")
@blp.response(200, PayoutDetailsSchema)
def get_payout_details():
    details = queries.get_payout_details(_org())
    return details or {"details": "", "updated_at": None}


@blp.put("/billing/payout-details")
@api_auth("seller")
@blp.arguments(PayoutDetailsArgs)
@blp.response(200, PayoutDetailsSchema)
def put_payout_details(args):
    return services.save_payout_details(
        seller_org_id=_org(), details=args["bank_details"], actor=current_api_user()
    )


@blp.get("/billing/payouts")
@api_auth("seller")
@blp.arguments(PayoutListArgs, location="query")
@blp.response(200, page_schema(PayoutSchema, "PayoutPage"))
def list_payouts(args):
    return paginate(
        db.session,
        queries.list_payouts(seller_org_id=_org(), status=args["status"]),
        order=[(Payout.id, True)],
        cursor=args["cursor"],
        limit=args["limit"],
    )


@blp.post("/billing/payouts")
@api_auth("seller")
@idempotent()
@blp.arguments(PayoutArgs)
@blp.response(201, PayoutSchema)
def create_payout(args):
    return services.request_payout(
        seller_org_id=_org(),
        amount_cents=args["amount_cents"],
        idempotency_key=_service_key(),
        actor=current_api_user(),
    )


@blp.get("/billing/payouts/<int:payout_id>")
@api_auth("seller")
@blp.response(200, PayoutSchema)
def get_payout(payout_id):
    return queries.get_payout_for(seller_org_id=_org(), payout_id=payout_id)


@blp.get("/admin/payouts")
@api_auth("admin")
@blp.arguments(PayoutListArgs, location="query")
@blp.response(200, page_schema(AdminPayoutSchema, "AdminPayoutPage"))
def admin_list_payouts(args):
    return paginate(
        db.session,
        queries.list_payouts(status=args["status"]),
        order=[(Payout.id, True)],
        cursor=args["cursor"],
        limit=args["limit"],
    )


@blp.post("/admin/payouts/<int:payout_id>/paid")
@api_auth("admin")
@idempotent()
@blp.arguments(MarkPaidArgs)
@blp.response(200, AdminPayoutSchema)
def admin_mark_payout_paid(args, payout_id):
    return services.mark_payout_paid(
        payout_id=payout_id, reference=args["reference"], actor=current_api_user()
    )


# --- the ledger ------------------------------------------------------------------------------


@blp.get("/billing/ledger")
@error_responses(404)  # ?organization_id= of another organisation
@api_auth("buyer", "seller", "admin")
@blp.arguments(LedgerArgs, location="query")
@blp.response(200, page_schema(LedgerEntrySchema, "LedgerPage"))
def list_ledger(args):
    user = current_api_user()
    organization_id = args["organization_id"]
    if not user.is_admin:
        if organization_id not in (None, user.organization_id):
            raise NotFound("There is nothing here.")
        organization_id = user.organization_id
    result = paginate(
        db.session,
        queries.list_entries(
            organization_id=organization_id, account=args["account"], kind=args["kind"]
        ),
        order=[(LedgerEntry.id, True)],
        cursor=args["cursor"],
        limit=args["limit"],
    )
    result["items"] = [queries.describe_entry(e) for e in result["items"]]
    return result


# --- Stripe ----------------------------------------------------------------------------------


@blp.post("/billing/stripe/webhook")
@error_responses(400)  # a missing or wrong signature
@blp.doc(security=[], description="Signed Stripe events (Stripe-Signature header).")
@blp.response(200, WebhookAckSchema)
def stripe_webhook():
    signature = request.headers.get("Stripe-Signature")
    if not signature:
        raise WebhookSignatureInvalid()  # before a byte of an anonymous body is read
    request.max_content_length = WEBHOOK_MAX_BYTES  # get_data() is 413 past it
    try:
        event = gateway.parse_event(request.get_data(), signature)
    except gateway.SignatureNotVerified as exc:
        raise WebhookSignatureInvalid() from exc
    webhooks.process_event(event)
    return {"received": True}
