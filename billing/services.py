"""Billing use cases: what the market, disputes, the API, pages, CLI and tasks call.

Each public function is one database transaction (or, around a Stripe call, three: record the
intent, call Stripe outside any transaction, record the result) and is idempotent by a key.

For the market and disputes issues:

- ``charge_purchase(buyer_org_id=, seller_org_id=, amount_cents=, reference=, idempotency_key=,
  release_after=)`` -> Sale: buyer wallet -> seller pending + platform fee; 402
  ``insufficient_funds`` when the wallet is too low. ``release_after`` is the end of the
  return window.
- ``set_sale_hold(sale_id=, is_held=, reason=)``: a held sale is never released (open dispute).
- ``reverse_sale(sale_id=, reference=)``: the exact reverse of a pending sale, once.
- ``maybe_auto_recharge(buyer_org_id)``: call after a purchase has committed.
- ``signals.auto_recharge_failed``: connect to pause the buyer's auto-buy.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from app.auth.models import Organization, User
from app.auth.services import record_audit
from app.db import insert_if_absent, transaction, utcnow
from app.errors import Conflict, Invalid, NotFound
from app.extensions import db
from app.money import dollars
from app.settings import get_settings
from billing import ledger
from billing import stripe_gateway as gateway
from billing.errors import (
    CardDeclined,
    IdempotencyKeyReused,
    NoPaymentMethod,
    PaymentProviderError,
    PaymentProviderUnavailable,
)
from billing.models import (
    CURRENCY,
    AutoRecharge,
    PaymentMethod,
    RefundPart,
    Sale,
    StripeCustomer,
    TopUp,
    WalletRefund,
)
from billing.payouts import mark_payout_paid, request_payout, save_payout_details
from billing.signals import auto_recharge_failed

logger = logging.getLogger(__name__)

__all__ = [
    "charge_purchase",
    "reverse_sale",
    "set_sale_hold",
    "release_earnings",
    "request_payout",
    "mark_payout_paid",
    "save_payout_details",
    "add_payment_method",
    "remove_payment_method",
    "create_card_setup",
    "create_top_up",
    "set_auto_recharge",
    "maybe_auto_recharge",
    "run_auto_recharge",
    "refund_wallet",
    "start_wallet_refund",
]

MIN_TOP_UP_CENTS = 500
MAX_TOP_UP_CENTS = 1_000_000
MAX_AMOUNT_CENTS = 100_000_000_000  # a sanity bound for any one movement ($1bn)
RELEASE_CHUNK = 200


def check_amount(
    value, field: str = "amount_cents", *, low: int = 1, high: int = MAX_AMOUNT_CENTS
) -> int:
    """A whole number of cents within [low, high], or 422 naming the field."""
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise Invalid(
            "The amount is not valid.",
            details={field: [f"A whole number of cents from {low} to {high}."]},
        )
    return value


def _check_key(key, field: str = "idempotency_key") -> str:
    if not isinstance(key, str) or not key.strip() or len(key) > 200:
        raise Invalid("An idempotency key is required.", details={field: ["1-200 characters."]})
    return key


def _wallet(org_id: int):
    return ledger.get_account("buyer_wallet", org_id)


# --- sales ---------------------------------------------------------------------------------


def charge_purchase(
    *,
    buyer_org_id: int,
    seller_org_id: int,
    amount_cents: int,
    reference: str,
    idempotency_key: str,
    release_after: datetime,
    currency: str = CURRENCY,
) -> Sale:
    """Take ``amount_cents`` from the buyer's wallet: the platform's fee (the admin setting,
    rounded half up to the cent) to platform revenue, the rest to the seller's pending earnings.

    The same key again returns the first sale and moves nothing; the same key for another
    buyer, seller or amount is 409.
    """
    check_amount(amount_cents)
    _check_key(idempotency_key)
    if buyer_org_id == seller_org_id:
        raise Invalid("An organisation cannot buy from itself.", code="own_sale")
    if not isinstance(release_after, datetime) or release_after.tzinfo is None:
        raise ValueError("release_after must be an aware datetime")
    try:
        with transaction() as session:
            existing = session.scalar(select(Sale).where(Sale.idempotency_key == idempotency_key))
            if existing is not None:
                return _same_sale(existing, buyer_org_id, seller_org_id, amount_cents)
            fee_bps = get_settings().platform_fee_bps
            fee = ledger.platform_fee_cents(amount_cents, fee_bps)
            sale = Sale(
                idempotency_key=idempotency_key,
                reference=reference,
                buyer_org_id=buyer_org_id,
                seller_org_id=seller_org_id,
                amount_cents=amount_cents,
                fee_bps=fee_bps,
                fee_cents=fee,
                seller_cents=amount_cents - fee,
                currency=currency,
                status="pending",
                is_held=False,
                release_after=release_after,
            )
            session.add(sale)
            session.flush()
            ledger.post(
                kind="sale",
                key=f"sale:{sale.id}",
                reference=reference,
                currency=currency,
                lines=[
                    (ledger.get_account("buyer_wallet", buyer_org_id, currency), -amount_cents),
                    (
                        ledger.get_account("seller_pending", seller_org_id, currency),
                        sale.seller_cents,
                    ),
                    (ledger.get_account("platform_revenue", None, currency), fee),
                ],
            )
    except IntegrityError:
        # A concurrent call with the same key won the insert.
        existing = db.session.scalar(select(Sale).where(Sale.idempotency_key == idempotency_key))
        if existing is None:
            raise
        return _same_sale(existing, buyer_org_id, seller_org_id, amount_cents)
    return sale


def _same_sale(sale: Sale, buyer_org_id, seller_org_id, amount_cents) -> Sale:
    if (sale.buyer_org_id, sale.seller_org_id, sale.amount_cents) != (
        buyer_org_id,
        seller_org_id,
        amount_cents,
    ):
        raise IdempotencyKeyReused(details={"sale_id": sale.id})
    return sale


def get_sale(sale_id: int) -> Sale:
    sale = db.session.get(Sale, sale_id)
    if sale is None:
        raise NotFound("No such sale.")
    return sale


def reverse_sale(*, sale_id: int, reference: str | None = None) -> Sale:
    """Give the buyer the whole amount back from seller pending and platform revenue, once.

    A sale already reversed is returned as it is; a released sale is 409 (its money has left
    pending: hold a sale while its dispute is open).
    """
    with transaction() as session:
        done = session.execute(
            update(Sale)
            .where(Sale.id == sale_id, Sale.status == "pending")
            .values(status="reversed", reversed_at=utcnow(), reversal_reference=reference)
            .execution_options(synchronize_session=False)
        ).rowcount
        sale = get_sale(sale_id)
        session.refresh(sale)
        if not done:
            if sale.status == "reversed":
                return sale
            raise Conflict(
                "The sale was already released to the seller.",
                code="sale_released",
                details={"sale_id": sale_id},
            )
        ledger.post(
            kind="sale_reversal",
            key=f"sale_reversal:{sale.id}",
            reference=reference or f"reversal of {sale.reference}",
            currency=sale.currency,
            lines=[
                (
                    ledger.get_account("buyer_wallet", sale.buyer_org_id, sale.currency),
                    sale.amount_cents,
                ),
                (
                    ledger.get_account("seller_pending", sale.seller_org_id, sale.currency),
                    -sale.seller_cents,
                ),
                (ledger.get_account("platform_revenue", None, sale.currency), -sale.fee_cents),
            ],
        )
    return sale


def set_sale_hold(*, sale_id: int, is_held: bool, reason: str | None = None) -> Sale:
    """Hold a sale (an open dispute) or let it go: a held sale is never released."""
    with transaction():
        sale = get_sale(sale_id)
        sale.is_held = bool(is_held)
        sale.hold_reason = reason if is_held else None
    return sale


def release_earnings(*, now: datetime | None = None) -> int:
    """Move the seller's share of every due, unheld, pending sale to available; how many.

    Each sale is released once (a conditional status update), in chunks of one transaction.
    """
    now = now or utcnow()
    released = 0
    last_id = 0
    while True:
        ids = db.session.scalars(
            select(Sale.id)
            .where(
                Sale.status == "pending",
                Sale.is_held.is_(False),
                Sale.release_after <= now,
                Sale.id > last_id,
            )
            .order_by(Sale.id)
            .limit(RELEASE_CHUNK)
        ).all()
        db.session.commit()
        if not ids:
            return released
        last_id = ids[-1]
        with transaction() as session:
            for sale_id in ids:
                done = session.execute(
                    update(Sale)
                    .where(
                        Sale.id == sale_id,
                        Sale.status == "pending",
                        Sale.is_held.is_(False),
                        Sale.release_after <= now,
                    )
                    .values(status="released", released_at=now)
                    .execution_options(synchronize_session=False)
                ).rowcount
                if not done:
                    continue
                sale = session.get(Sale, sale_id)
                session.refresh(sale)
                ledger.post(
                    kind="release",
                    key=f"release:{sale.id}",
                    reference=sale.reference,
                    currency=sale.currency,
                    lines=[
                        (
                            ledger.get_account(
                                "seller_pending", sale.seller_org_id, sale.currency
                            ),
                            -sale.seller_cents,
                        ),
                        (
                            ledger.get_account(
                                "seller_available", sale.seller_org_id, sale.currency
                            ),
                            sale.seller_cents,
                        ),
                    ],
                )
                released += 1


# --- Stripe customers and cards --------------------------------------------------------------


def ensure_customer(buyer_org_id: int) -> str:
    """The organisation's Stripe Customer id; the Customer is created on first need."""
    session = db.session
    row = session.get(StripeCustomer, buyer_org_id)
    if row is not None:
        return row.stripe_customer_id
    organization = session.get(Organization, buyer_org_id)
    if organization is None or organization.kind != "buyer":
        raise NotFound("No such buyer.")
    name = organization.name
    session.commit()
    customer_id = _provider(gateway.create_customer, organization_id=buyer_org_id, name=name)
    with transaction():
        insert_if_absent(
            StripeCustomer,
            key=["organization_id"],
            organization_id=buyer_org_id,
            stripe_customer_id=customer_id,
            created_at=utcnow(),
        )
    row = session.get(StripeCustomer, buyer_org_id)
    if row.stripe_customer_id != customer_id:
        logger.warning(
            "org %s: a concurrent request made Stripe customer %s first; %s unused",
            buyer_org_id,
            row.stripe_customer_id,
            customer_id,
        )
    return row.stripe_customer_id


def _provider_error(exc: gateway.GatewayError) -> Exception:
    """A gateway failure of something that is not a payment, as the API error to answer."""
    if isinstance(exc, gateway.CardDeclined):
        return CardDeclined(exc.message, details={"decline_code": exc.code})
    if isinstance(exc, gateway.ProviderUnreachable | gateway.ProviderTimeout):
        return PaymentProviderUnavailable()
    return PaymentProviderError(exc.message, details={"provider_code": exc.code})


def _provider(fn, *args, **kwargs):
    """Call the gateway for something that is not a payment: provider faults as API errors."""
    try:
        return fn(*args, **kwargs)
    except gateway.GatewayError as exc:
        raise _provider_error(exc) from exc


def create_card_setup(*, buyer_org_id: int) -> dict:
    """A SetupIntent for Stripe.js ``confirmCardSetup`` on the card form."""
    customer = ensure_customer(buyer_org_id)
    return _provider(gateway.create_setup_intent, customer=customer)


def add_payment_method(
    *, buyer_org_id: int, payment_method: str, actor: User | None = None
) -> PaymentMethod:
    """Attach a card to the organisation's Customer and make it the default (idempotent)."""
    if (
        not isinstance(payment_method, str)
        or not payment_method.startswith("pm_")
        or not payment_method[3:].replace("_", "").isalnum()
        or len(payment_method) > 64
    ):
        raise Invalid(
            "Send a Stripe PaymentMethod id.",
            details={"payment_method": ["A Stripe PaymentMethod id such as 'pm_...'."]},
        )
    session = db.session
    known = session.scalar(
        select(PaymentMethod).where(PaymentMethod.stripe_payment_method_id == payment_method)
    )
    if known is not None:
        if known.organization_id != buyer_org_id:
            raise Invalid(
                "This card belongs to another account.",
                details={"payment_method": ["Unknown payment method."]},
            )
        return known
    customer = ensure_customer(buyer_org_id)
    try:
        card = gateway.attach_payment_method(payment_method=payment_method, customer=customer)
    except gateway.ProviderRejected as exc:
        if exc.status in (400, 404):
            raise Invalid(
                "The payment provider does not know this card.",
                code="invalid_payment_method",
                details={"payment_method": [exc.message]},
            ) from exc
        raise PaymentProviderError(exc.message) from exc
    except gateway.GatewayError as exc:
        raise _provider_error(exc) from exc
    _provider(gateway.set_default_payment_method, customer=customer, payment_method=card["id"])
    try:
        return _record_card(buyer_org_id, card, actor)
    except IntegrityError:
        # The same card saved twice at once: the other request recorded it.
        return get_payment_method_for(buyer_org_id=buyer_org_id, payment_method_id=card["id"])


def _record_card(buyer_org_id: int, card: dict, actor: User | None) -> PaymentMethod:
    session = db.session
    with transaction():
        session.execute(
            update(PaymentMethod)
            .where(PaymentMethod.organization_id == buyer_org_id)
            .values(is_default=False)
            .execution_options(synchronize_session=False)
        )
        row = PaymentMethod(
            organization_id=buyer_org_id,
            stripe_payment_method_id=card["id"],
            brand=(card["brand"] or "card")[:32],
            last4=(card["last4"] or "")[-4:],
            exp_month=card["exp_month"],
            exp_year=card["exp_year"],
            is_default=True,
        )
        session.add(row)
        session.flush()
        if actor is not None:
            record_audit(
                actor=actor, action="payment_method.added", obj=row, details={"last4": row.last4}
            )
    return row


def get_payment_method_for(*, buyer_org_id: int, payment_method_id: str) -> PaymentMethod:
    row = db.session.scalar(
        select(PaymentMethod).where(
            PaymentMethod.stripe_payment_method_id == payment_method_id,
            PaymentMethod.organization_id == buyer_org_id,
        )
    )
    if row is None:
        raise NotFound("No such card.")
    return row


def remove_payment_method(
    *, buyer_org_id: int, payment_method_id: str, actor: User | None = None
) -> None:
    """Detach a card; when it was the default, the newest remaining card becomes the default."""
    row = get_payment_method_for(buyer_org_id=buyer_org_id, payment_method_id=payment_method_id)
    stripe_id = row.stripe_payment_method_id
    try:
        gateway.detach_payment_method(stripe_id)
    except gateway.ProviderRejected as exc:
        # Already gone at Stripe: forget it here too.
        logger.info("detach %s: %s", stripe_id, exc.message)
    except gateway.GatewayError as exc:
        raise _provider_error(exc) from exc
    new_default = None
    with transaction() as session:
        row = get_payment_method_for(buyer_org_id=buyer_org_id, payment_method_id=stripe_id)
        was_default = row.is_default
        session.delete(row)
        session.flush()
        if was_default:
            new_default = session.scalar(
                select(PaymentMethod)
                .where(PaymentMethod.organization_id == buyer_org_id)
                .order_by(PaymentMethod.id.desc())
            )
            if new_default is not None:
                new_default.is_default = True
        if actor is not None:
            record_audit(
                actor=actor,
                action="payment_method.removed",
                object_type="payment_methods",
                object_id=stripe_id,
            )
        customer = session.get(StripeCustomer, buyer_org_id)
        customer_id = customer.stripe_customer_id if customer else None
        new_default_id = new_default.stripe_payment_method_id if new_default else None
    if new_default_id and customer_id:
        try:
            gateway.set_default_payment_method(customer=customer_id, payment_method=new_default_id)
        except gateway.GatewayError as exc:
            # Our default decides what we charge; Stripe's is informational.
            logger.warning("could not set the default card at Stripe: %s", exc.message)


def default_payment_method(buyer_org_id: int) -> PaymentMethod | None:
    return db.session.scalar(
        select(PaymentMethod).where(
            PaymentMethod.organization_id == buyer_org_id, PaymentMethod.is_default.is_(True)
        )
    )


# --- top-ups -------------------------------------------------------------------------------


def create_top_up(
    *,
    buyer_org_id: int,
    amount_cents: int,
    idempotency_key: str,
    trigger: str = "manual",
) -> TopUp:
    """Charge the default card and credit the wallet when Stripe says the payment succeeded.

    Record the intent (committed), call Stripe outside any transaction, record the result.
    The wallet is credited once, here or by the webhook, whichever sees success first. A
    decline is 402 with the failed top-up kept; a provider that cannot be reached is 503 and
    frees the key; a provider that may have received the request is 503 and the top-up stays
    pending until the webhook or ``flask billing reconcile --fix`` settles it.
    """
    check_amount(amount_cents, low=MIN_TOP_UP_CENTS, high=MAX_TOP_UP_CENTS)
    _check_key(idempotency_key)
    session = db.session
    try:
        with transaction():
            existing = _top_up_by_key(buyer_org_id, idempotency_key)
            if existing is not None:
                return _replay_top_up(existing, amount_cents)
            card = default_payment_method(buyer_org_id)
            customer = session.get(StripeCustomer, buyer_org_id)
            if card is None or customer is None:
                raise NoPaymentMethod()
            top_up = TopUp(
                organization_id=buyer_org_id,
                idempotency_key=idempotency_key,
                amount_cents=amount_cents,
                currency=CURRENCY,
                status="pending",
                trigger=trigger,
                payment_method_id=card.stripe_payment_method_id,
                card_label=f"{card.brand.title()} •••• {card.last4}"[:64],
            )
            session.add(top_up)
            session.flush()
            top_up_id = top_up.id
            request = {
                "amount_cents": amount_cents,
                "currency": CURRENCY,
                "customer": customer.stripe_customer_id,
                "payment_method": card.stripe_payment_method_id,
                "off_session": trigger == "auto_recharge",
                "metadata": {
                    "leadex_top_up_id": top_up_id,
                    "leadex_organization_id": buyer_org_id,
                },
                "idempotency_key": f"leadex-top-up-{top_up_id}",
            }
    except IntegrityError:
        existing = _top_up_by_key(buyer_org_id, idempotency_key)
        if existing is None:
            raise
        return _replay_top_up(existing, amount_cents)

    try:
        result = gateway.create_payment_intent(**request)
    except gateway.CardDeclined as exc:
        with transaction():
            settle_top_up_failed(
                top_up_id,
                code="card_declined",
                message=exc.message,
                payment_intent_id=exc.payment_intent_id,
            )
        raise CardDeclined(exc.message, details={"top_up_id": top_up_id}) from exc
    except gateway.ProviderUnreachable as exc:
        with transaction():
            settle_top_up_failed(
                top_up_id,
                code="payment_provider_unavailable",
                message=exc.message,
                release_key=True,
            )
        raise PaymentProviderUnavailable(details={"top_up_id": top_up_id}) from exc
    except gateway.ProviderTimeout as exc:
        logger.warning(
            "top-up %s: no answer from Stripe; pending until it is confirmed", top_up_id
        )
        raise PaymentProviderUnavailable(
            "The payment provider did not answer in time. The top-up is pending: the wallet "
            "is credited as soon as the payment is confirmed, and never twice.",
            details={"top_up_id": top_up_id, "status": "pending"},
        ) from exc
    except gateway.ProviderRejected as exc:
        with transaction():
            settle_top_up_failed(top_up_id, code="payment_provider_error", message=exc.message)
        raise PaymentProviderError(exc.message, details={"top_up_id": top_up_id}) from exc
    with transaction():
        apply_payment_intent(top_up_id, result)
    top_up = session.get(TopUp, top_up_id)
    session.refresh(top_up)
    return top_up


def _top_up_by_key(org_id: int, key: str) -> TopUp | None:
    return db.session.scalar(
        select(TopUp).where(TopUp.organization_id == org_id, TopUp.idempotency_key == key)
    )


def _replay_top_up(top_up: TopUp, amount_cents: int) -> TopUp:
    """The answer the first request with this key got, without charging again."""
    if top_up.amount_cents != amount_cents:
        raise IdempotencyKeyReused(details={"top_up_id": top_up.id})
    if top_up.status == "failed":
        if top_up.failure_code == "payment_provider_error":
            raise PaymentProviderError(top_up.failure_message, details={"top_up_id": top_up.id})
        raise CardDeclined(top_up.failure_message, details={"top_up_id": top_up.id})
    return top_up


def apply_payment_intent(top_up_id: int, pi: gateway.PaymentIntentResult) -> str:
    """Bring a top-up in line with what Stripe says of its PaymentIntent (flush only).

    Returns "credited", "failed", "pending" or "unchanged".
    """
    if pi.status == "succeeded":
        return "credited" if _settle_succeeded(top_up_id, pi) else "unchanged"
    if pi.status == "canceled" or (
        pi.status == "requires_payment_method" and (pi.failure_code or pi.failure_message)
    ):
        failed = settle_top_up_failed(
            top_up_id,
            code=pi.failure_code or pi.status,
            message=pi.failure_message or f"The payment was {pi.status}.",
            payment_intent_id=pi.id,
        )
        return "failed" if failed else "unchanged"
    db.session.execute(
        update(TopUp)
        .where(TopUp.id == top_up_id, TopUp.stripe_payment_intent_id.is_(None))
        .values(stripe_payment_intent_id=pi.id)
        .execution_options(synchronize_session=False)
    )
    return "pending"


def _settle_succeeded(top_up_id: int, pi: gateway.PaymentIntentResult) -> bool:
    """Mark the top-up succeeded and credit the wallet, if that has not happened yet."""
    session = db.session
    top_up = session.get(TopUp, top_up_id)
    session.refresh(top_up)
    if top_up.stripe_payment_intent_id not in (None, pi.id):
        logger.error(
            "top-up %s is paid by %s, not %s: left for reconcile",
            top_up_id,
            top_up.stripe_payment_intent_id,
            pi.id,
        )
        return False
    if pi.amount_cents != top_up.amount_cents or pi.currency != top_up.currency:
        logger.error(
            "top-up %s: Stripe received %s %s for %s %s: left for reconcile",
            top_up_id,
            pi.amount_cents,
            pi.currency,
            top_up.amount_cents,
            top_up.currency,
        )
        return False
    done = session.execute(
        update(TopUp)
        .where(TopUp.id == top_up_id, TopUp.status.in_(("pending", "failed")))
        .values(
            status="succeeded",
            stripe_payment_intent_id=pi.id,
            stripe_charge_id=pi.charge_id,
            failure_code=None,
            failure_message=None,
            settled_at=utcnow(),
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    if not done:
        return False
    session.refresh(top_up)
    ledger.post(
        kind="top_up",
        key=f"top_up:{top_up.id}",
        reference=f"top-up {top_up.id} ({pi.id})",
        currency=top_up.currency,
        lines=[
            (ledger.get_account("stripe_clearing", None, top_up.currency), -top_up.amount_cents),
            (
                ledger.get_account("buyer_wallet", top_up.organization_id, top_up.currency),
                top_up.amount_cents,
            ),
        ],
    )
    return True


def settle_top_up_failed(
    top_up_id: int,
    *,
    code: str,
    message: str,
    payment_intent_id: str | None = None,
    release_key: bool = False,
) -> bool:
    """Mark a pending top-up failed; a failed auto-recharge turns auto-recharge off."""
    session = db.session
    values = {
        "status": "failed",
        "failure_code": (code or "failed")[:64],
        "failure_message": message,
        "settled_at": utcnow(),
    }
    if release_key:
        values["idempotency_key"] = None
    done = session.execute(
        update(TopUp)
        .where(TopUp.id == top_up_id, TopUp.status == "pending")
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount
    if payment_intent_id:
        session.execute(
            update(TopUp)
            .where(TopUp.id == top_up_id, TopUp.stripe_payment_intent_id.is_(None))
            .values(stripe_payment_intent_id=payment_intent_id)
            .execution_options(synchronize_session=False)
        )
    if not done:
        return False
    top_up = session.get(TopUp, top_up_id)
    session.refresh(top_up)
    if top_up.trigger == "auto_recharge" and code != "payment_provider_unavailable":
        _disable_auto_recharge(
            top_up.organization_id,
            reason=f"The automatic top-up of {dollars(top_up.amount_cents)} failed: {message}",
            top_up_id=top_up.id,
        )
    return True


# --- auto-recharge -------------------------------------------------------------------------


def set_auto_recharge(
    *,
    buyer_org_id: int,
    is_enabled: bool,
    threshold_cents: int,
    amount_cents: int,
    actor: User | None = None,
) -> AutoRecharge:
    check_amount(threshold_cents, "threshold_cents", low=0, high=MAX_TOP_UP_CENTS)
    check_amount(amount_cents, "amount_cents", low=MIN_TOP_UP_CENTS, high=MAX_TOP_UP_CENTS)
    with transaction() as session:
        if is_enabled and default_payment_method(buyer_org_id) is None:
            raise NoPaymentMethod("Add a card before turning auto-recharge on.")
        insert_if_absent(
            AutoRecharge,
            key=["organization_id"],
            organization_id=buyer_org_id,
            is_enabled=False,
            threshold_cents=threshold_cents,
            amount_cents=amount_cents,
            is_running=False,
            trigger_count=0,
        )
        setting = session.get(AutoRecharge, buyer_org_id)
        setting.is_enabled = bool(is_enabled)
        setting.threshold_cents = threshold_cents
        setting.amount_cents = amount_cents
        setting.updated_at = utcnow()
        if is_enabled:
            setting.disabled_reason = None
            setting.disabled_at = None
        session.flush()
        if actor is not None:
            record_audit(
                actor=actor,
                action="auto_recharge.updated",
                obj=setting,
                object_id=buyer_org_id,
                details={
                    "is_enabled": setting.is_enabled,
                    "threshold_cents": threshold_cents,
                    "amount_cents": amount_cents,
                },
            )
    return setting


def get_auto_recharge(buyer_org_id: int) -> AutoRecharge | None:
    return db.session.get(AutoRecharge, buyer_org_id)


def maybe_auto_recharge(buyer_org_id: int) -> bool:
    """Queue one off-session recharge when the wallet is under the buyer's threshold.

    For the market, after its purchase has committed (not inside another transaction: the
    queued task must see what this one wrote). One trigger queues one charge: a recharge
    already queued or running makes further calls no-ops until it finishes.
    """
    if db.session.info.get("leadex_tx_depth", 0):
        raise RuntimeError("call maybe_auto_recharge after the purchase transaction commits")
    with transaction() as session:
        setting = session.get(AutoRecharge, buyer_org_id)
        if setting is None or not setting.is_enabled:
            return False
        if ledger.balance_of("buyer_wallet", buyer_org_id) >= setting.threshold_cents:
            return False
        trigger = setting.trigger_count + 1
        claimed = session.execute(
            update(AutoRecharge)
            .where(
                AutoRecharge.organization_id == buyer_org_id,
                AutoRecharge.is_enabled.is_(True),
                AutoRecharge.is_running.is_(False),
                AutoRecharge.trigger_count == setting.trigger_count,
            )
            .values(is_running=True, trigger_count=trigger, last_triggered_at=utcnow())
            .execution_options(synchronize_session=False)
        ).rowcount
        if not claimed:
            return False
    from billing.tasks import auto_recharge

    try:
        auto_recharge.delay(buyer_org_id, trigger)
    except Exception:
        # Not queued (broker down): free the trigger, so the next purchase tries again.
        with transaction() as session:
            session.execute(
                update(AutoRecharge)
                .where(
                    AutoRecharge.organization_id == buyer_org_id,
                    AutoRecharge.trigger_count == trigger,
                )
                .values(is_running=False)
                .execution_options(synchronize_session=False)
            )
        raise
    return True


def run_auto_recharge(*, buyer_org_id: int, trigger: int) -> TopUp | None:
    """The queued recharge: charge the default card off-session, once per trigger."""
    session = db.session
    setting = session.get(AutoRecharge, buyer_org_id)
    if setting is None or setting.trigger_count != trigger or not setting.is_running:
        return None
    amount = setting.amount_cents
    enabled = setting.is_enabled
    session.commit()
    top_up = None
    try:
        if enabled:
            top_up = create_top_up(
                buyer_org_id=buyer_org_id,
                amount_cents=amount,
                idempotency_key=f"auto-recharge:{trigger}",
                trigger="auto_recharge",
            )
    except NoPaymentMethod:
        with transaction():
            _disable_auto_recharge(buyer_org_id, reason="There is no card to charge.")
    except (CardDeclined, PaymentProviderError) as exc:
        # The failed top-up turned auto-recharge off already; this only logs.
        logger.info("auto-recharge of org %s failed: %s", buyer_org_id, exc.message)
    except PaymentProviderUnavailable as exc:
        logger.warning(
            "auto-recharge of org %s: provider unavailable (%s)", buyer_org_id, exc.message
        )
    finally:
        with transaction():
            session.execute(
                update(AutoRecharge)
                .where(
                    AutoRecharge.organization_id == buyer_org_id,
                    AutoRecharge.trigger_count == trigger,
                )
                .values(is_running=False)
                .execution_options(synchronize_session=False)
            )
    return top_up


def _disable_auto_recharge(
    buyer_org_id: int, *, reason: str, top_up_id: int | None = None
) -> bool:
    """Turn auto-recharge off, say why, and tell listeners (the market pauses auto-buy).

    Listeners run inside this transaction, so the pause and the switch-off commit together.
    """
    done = db.session.execute(
        update(AutoRecharge)
        .where(AutoRecharge.organization_id == buyer_org_id, AutoRecharge.is_enabled.is_(True))
        .values(
            is_enabled=False, disabled_reason=reason, disabled_at=utcnow(), updated_at=utcnow()
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    if done:
        logger.info("auto-recharge of org %s turned off: %s", buyer_org_id, reason)
        auto_recharge_failed.send(
            "billing", organization_id=buyer_org_id, reason=reason, top_up_id=top_up_id
        )
    return bool(done)


# --- wallet refunds ------------------------------------------------------------------------


def refundable_cents(buyer_org_id: int) -> int:
    """What may go back to cards: the wallet, and never more than the top-ups paid in."""
    paid_in = db.session.scalar(
        select(func.coalesce(func.sum(TopUp.amount_cents - TopUp.refunded_cents), 0)).where(
            TopUp.organization_id == buyer_org_id, TopUp.status == "succeeded"
        )
    )
    return max(0, min(int(paid_in), ledger.balance_of("buyer_wallet", buyer_org_id)))


def refund_wallet(
    *, buyer_org_id: int, amount_cents: int, idempotency_key: str | None = None
) -> WalletRefund:
    """Send unspent wallet money back to the card through Stripe Refunds, against the top-ups
    newest first, never more than a top-up paid in.

    The wallet is debited with the intent (so the money cannot be spent meanwhile); a part
    that Stripe refuses is credited back. A part whose answer was lost stays pending until
    reconcile (or the ``charge.refunded`` event) settles it.
    """
    refund, is_new = start_wallet_refund(
        buyer_org_id=buyer_org_id, amount_cents=amount_cents, idempotency_key=idempotency_key
    )
    if not is_new:
        return refund
    session = db.session
    refund_id = refund.id
    calls = [
        (part.id, part.top_up.stripe_payment_intent_id, part.amount_cents) for part in refund.parts
    ]
    session.commit()
    unreachable = False
    for part_id, payment_intent, cents in calls:
        try:
            answer = gateway.create_refund(
                payment_intent=payment_intent,
                amount_cents=cents,
                metadata={"leadex_refund_id": refund_id, "leadex_refund_part_id": part_id},
                idempotency_key=f"leadex-refund-part-{part_id}",
            )
        except gateway.ProviderTimeout:
            logger.warning("refund part %s: no answer from Stripe; pending", part_id)
            continue
        except gateway.GatewayError as exc:
            unreachable = unreachable or isinstance(exc, gateway.ProviderUnreachable)
            with transaction():
                fail_refund_part(part_id, message=exc.message)
            continue
        with transaction():
            settle_refund_part(part_id, stripe_refund_id=answer["id"])
    with transaction():
        refund = session.get(WalletRefund, refund_id)
        session.refresh(refund)
        failed = refund.status == "failed"
        if unreachable and failed:
            refund.idempotency_key = None  # nothing happened: the client may retry the key
    if unreachable and failed:
        raise PaymentProviderUnavailable(
            "The payment provider could not be reached; the money stays in your wallet.",
            details={"refund_id": refund_id},
        )
    return refund


def start_wallet_refund(
    *, buyer_org_id: int, amount_cents: int, idempotency_key: str | None = None
) -> tuple[WalletRefund, bool]:
    """Record a wallet refund's intent: debit the wallet, split it over the top-ups newest
    first (pending parts), in one transaction. Returns (refund, is_new); the same key again
    returns the first refund. The parts are then settled by ``settle_refund_part`` or
    ``fail_refund_part`` as Stripe answers."""
    check_amount(amount_cents)
    session = db.session
    try:
        with transaction():
            if idempotency_key:
                existing = session.scalar(
                    select(WalletRefund).where(
                        WalletRefund.organization_id == buyer_org_id,
                        WalletRefund.idempotency_key == idempotency_key,
                    )
                )
                if existing is not None:
                    if existing.amount_cents != amount_cents:
                        raise IdempotencyKeyReused(details={"refund_id": existing.id})
                    return existing, False
            refund = WalletRefund(
                organization_id=buyer_org_id,
                idempotency_key=idempotency_key,
                amount_cents=amount_cents,
                currency=CURRENCY,
                status="pending",
                source="buyer",
                uncovered_cents=0,
            )
            session.add(refund)
            session.flush()
            ledger.post(
                kind="refund",
                key=f"refund:{refund.id}",
                reference=f"refund {refund.id} to card",
                lines=[
                    (_wallet(buyer_org_id), -amount_cents),
                    (ledger.get_account("refunds"), amount_cents),
                ],
            )
            _allocate_refund(refund)
    except IntegrityError:
        existing = session.scalar(
            select(WalletRefund).where(
                WalletRefund.organization_id == buyer_org_id,
                WalletRefund.idempotency_key == idempotency_key,
            )
        )
        if existing is None:
            raise
        return existing, False
    return refund, True


def _allocate_refund(refund: WalletRefund) -> None:
    session = db.session
    remaining = refund.amount_cents
    top_ups = session.scalars(
        select(TopUp)
        .where(
            TopUp.organization_id == refund.organization_id,
            TopUp.status == "succeeded",
            TopUp.refunded_cents < TopUp.amount_cents,
            TopUp.stripe_payment_intent_id.is_not(None),
        )
        .order_by(TopUp.settled_at.desc(), TopUp.id.desc())
    ).all()
    for top_up in top_ups:
        if remaining == 0:
            break
        take = min(remaining, top_up.amount_cents - top_up.refunded_cents)
        taken = session.execute(
            update(TopUp)
            .where(TopUp.id == top_up.id, TopUp.refunded_cents + take <= TopUp.amount_cents)
            .values(refunded_cents=TopUp.refunded_cents + take)
            .execution_options(synchronize_session=False)
        ).rowcount
        if not taken:
            raise Conflict("The top-ups changed under this refund; try again.")
        session.add(
            RefundPart(
                refund_id=refund.id, top_up_id=top_up.id, amount_cents=take, status="pending"
            )
        )
        remaining -= take
    if remaining:
        raise Invalid(
            "That is more than the card top-ups paid in.",
            code="refund_exceeds_payments",
            details={
                "amount_cents": [
                    f"At most {refund.amount_cents - remaining} cents can go back to cards."
                ]
            },
        )
    session.flush()
    session.refresh(refund)


def settle_refund_part(part_id: int, *, stripe_refund_id: str) -> bool:
    done = db.session.execute(
        update(RefundPart)
        .where(RefundPart.id == part_id, RefundPart.status == "pending")
        .values(status="succeeded", stripe_refund_id=stripe_refund_id, settled_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    _refresh_refund_of_part(part_id)
    return bool(done)


def fail_refund_part(part_id: int, *, message: str) -> bool:
    """A part Stripe did not refund: its cents go back to the wallet and the top-up."""
    session = db.session
    done = session.execute(
        update(RefundPart)
        .where(RefundPart.id == part_id, RefundPart.status == "pending")
        .values(status="failed", failure_message=message, settled_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    if done:
        part = session.get(RefundPart, part_id)
        session.refresh(part)
        session.execute(
            update(TopUp)
            .where(TopUp.id == part.top_up_id)
            .values(refunded_cents=TopUp.refunded_cents - part.amount_cents)
            .execution_options(synchronize_session=False)
        )
        org = part.refund.organization_id
        ledger.post(
            kind="refund",
            key=f"refund_part_failed:{part.id}",
            reference=f"refund {part.refund_id} not made: credited back",
            lines=[
                (_wallet(org), part.amount_cents),
                (ledger.get_account("refunds"), -part.amount_cents),
            ],
        )
    _refresh_refund_of_part(part_id)
    return bool(done)


def _refresh_refund_of_part(part_id: int) -> None:
    part = db.session.get(RefundPart, part_id)
    if part is None:
        return
    db.session.refresh(part)
    refund = part.refund
    db.session.refresh(refund)
    _update_refund_status(refund)


def _update_refund_status(refund: WalletRefund) -> None:
    statuses = {part.status for part in refund.parts}
    if not statuses or "pending" in statuses:
        status = "pending"
    elif statuses == {"succeeded"}:
        status = "succeeded"
    elif statuses == {"failed"}:
        status = "failed"
    else:
        status = "partially_failed"
    if status != refund.status:
        refund.status = status
        refund.completed_at = None if status == "pending" else utcnow()
    db.session.flush()


def record_external_refund(*, top_up: TopUp, stripe_refund_id: str, amount_cents: int) -> None:
    """A refund made outside Leadex (the Stripe dashboard), learnt from ``charge.refunded``.

    The wallet gives back what it still holds; the rest is recorded as uncovered for reconcile
    to report (flush only).
    """
    session = db.session
    covered = min(
        amount_cents,
        max(0, ledger.balance_of("buyer_wallet", top_up.organization_id)),
        top_up.amount_cents - top_up.refunded_cents,
    )
    refund = WalletRefund(
        organization_id=top_up.organization_id,
        amount_cents=amount_cents,
        currency=top_up.currency,
        status="succeeded",
        source="stripe",
        uncovered_cents=amount_cents - covered,
        completed_at=utcnow(),
    )
    session.add(refund)
    session.flush()
    session.add(
        RefundPart(
            refund_id=refund.id,
            top_up_id=top_up.id,
            amount_cents=amount_cents,
            status="succeeded",
            stripe_refund_id=stripe_refund_id,
            settled_at=utcnow(),
        )
    )
    if covered:
        session.execute(
            update(TopUp)
            .where(TopUp.id == top_up.id)
            .values(refunded_cents=TopUp.refunded_cents + covered)
            .execution_options(synchronize_session=False)
        )
        ledger.post(
            kind="refund",
            key=f"refund:{refund.id}",
            reference=f"refund {stripe_refund_id} made at Stripe",
            lines=[
                (_wallet(top_up.organization_id), -covered),
                (ledger.get_account("refunds"), covered),
            ],
        )
    if covered < amount_cents:
        logger.error(
            "Stripe refund %s of %s cents: the wallet covered %s",
            stripe_refund_id,
            amount_cents,
            covered,
        )
    session.flush()
