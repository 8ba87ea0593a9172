"""Wallet refunds: unspent wallet money back to the card, split over the top-ups newest first,
one Stripe Refund per part; and refunds made outside Leadex, learnt from ``charge.refunded``."""

from __future__ import annotations

import logging

from sqlalchemy import select, update

from app.db import end_read, transaction, utcnow
from app.errors import Conflict, Invalid
from app.extensions import db
from app.idempotency import create_once
from billing import ledger, queries
from billing import stripe_gateway as gateway
from billing.amounts import check_amount
from billing.errors import IdempotencyKeyReused, PaymentProviderUnavailable
from billing.models import CURRENCY, RefundPart, TopUp, WalletRefund

logger = logging.getLogger(__name__)


def _wallet(org_id: int):
    return ledger.get_account("buyer_wallet", org_id)


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
    end_read()
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

    def record_refund() -> WalletRefund:
        refund = WalletRefund(
            organization_id=buyer_org_id,
            idempotency_key=idempotency_key,
            amount_cents=amount_cents,
            currency=CURRENCY,
            status="pending",
            source="buyer",
            uncovered_cents=0,
        )
        db.session.add(refund)
        db.session.flush()
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
        return refund

    refund, is_new = create_once(
        lambda: (
            queries.get_refund_by_key(buyer_org_id, idempotency_key) if idempotency_key else None
        ),
        record_refund,
    )
    if not is_new and refund.amount_cents != amount_cents:
        raise IdempotencyKeyReused(details={"refund_id": refund.id})
    return refund, is_new


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
