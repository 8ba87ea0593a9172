"""Top-ups: charge the default card through a Stripe PaymentIntent and credit the wallet once,
whoever learns of the payment first (this call, the webhook or reconcile); and the queued
auto-recharge, which is a top-up of its own."""

from __future__ import annotations

import logging

from sqlalchemy import update

from app.db import end_read, transaction, utcnow
from app.extensions import db
from app.idempotency import create_once
from app.money import dollars
from billing import ledger, queries
from billing import stripe_gateway as gateway
from billing.amounts import (
    MAX_TOP_UP_CENTS,
    MIN_TOP_UP_CENTS,
    check_amount,
    check_idempotency_key,
)
from billing.auto_recharge import disable_auto_recharge, release_trigger
from billing.errors import (
    CardDeclined,
    IdempotencyKeyReused,
    NoPaymentMethod,
    PaymentProviderError,
    PaymentProviderUnavailable,
)
from billing.models import CURRENCY, AutoRecharge, TopUp

logger = logging.getLogger(__name__)


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
    check_idempotency_key(idempotency_key)
    session = db.session

    def record_top_up() -> TopUp:
        card = queries.get_default_payment_method(buyer_org_id)
        if card is None or queries.get_stripe_customer_id(buyer_org_id) is None:
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
        return top_up

    top_up, is_new = create_once(
        lambda: queries.get_top_up_by_key(buyer_org_id, idempotency_key), record_top_up
    )
    if not is_new:
        return _replay_top_up(top_up, amount_cents)
    top_up_id = top_up.id
    request = _payment_request(top_up)
    end_read()

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


def _payment_request(top_up: TopUp) -> dict:
    """What Stripe is asked to charge for a recorded top-up; its key is the top-up's id."""
    return {
        "amount_cents": top_up.amount_cents,
        "currency": top_up.currency,
        "customer": queries.get_stripe_customer_id(top_up.organization_id),
        "payment_method": top_up.payment_method_id,
        "off_session": top_up.trigger == "auto_recharge",
        "metadata": {
            "leadex_top_up_id": top_up.id,
            "leadex_organization_id": top_up.organization_id,
        },
        "idempotency_key": f"leadex-top-up-{top_up.id}",
    }


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
        disable_auto_recharge(
            top_up.organization_id,
            reason=f"The automatic top-up of {dollars(top_up.amount_cents)} failed: {message}",
            top_up_id=top_up.id,
        )
    return True


def run_auto_recharge(*, buyer_org_id: int, trigger: int) -> TopUp | None:
    """The queued recharge: charge the default card off-session, once per trigger."""
    session = db.session
    setting = session.get(AutoRecharge, buyer_org_id)
    if setting is None or setting.trigger_count != trigger or not setting.is_running:
        return None
    amount = setting.amount_cents
    enabled = setting.is_enabled
    end_read()
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
            disable_auto_recharge(buyer_org_id, reason="There is no card to charge.")
    except (CardDeclined, PaymentProviderError) as exc:
        # The failed top-up turned auto-recharge off already; this only logs.
        logger.info("auto-recharge of org %s failed: %s", buyer_org_id, exc.message)
    except PaymentProviderUnavailable as exc:
        logger.warning(
            "auto-recharge of org %s: provider unavailable (%s)", buyer_org_id, exc.message
        )
    finally:
        release_trigger(buyer_org_id, trigger)
    return top_up
