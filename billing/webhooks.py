"""Stripe webhook events: each verified event is stored by its id and handled once, in any order.

Handled: ``payment_intent.succeeded`` (credit the top-up, once, whoever sees success first),
``payment_intent.payment_failed`` (a pending top-up fails; a succeeded one stays succeeded, so a
late failure never undoes a payment) and ``charge.refunded`` (refunds whose answer we lost, or
refunds made outside Leadex). Anything else is stored as ignored and acknowledged.
"""

from __future__ import annotations

import dataclasses
import logging

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from app.db import transaction
from app.extensions import db
from billing import stripe_gateway as gateway
from billing.models import RefundPart, StripeEvent, TopUp
from billing.refunds import record_external_refund, settle_refund_part
from billing.top_ups import apply_payment_intent, settle_top_up_failed

logger = logging.getLogger(__name__)


def process_event(event: dict) -> str:
    """Store and handle one verified event; its outcome ("duplicate" when seen before)."""
    event_id = event["id"][:255]
    event_type = str(event.get("type") or "")[:100]
    data = event.get("data") if isinstance(event.get("data"), dict) else {}
    obj = data.get("object") if isinstance(data.get("object"), dict) else {}
    session = db.session
    if session.get(StripeEvent, event_id) is not None:
        return "duplicate"
    try:
        with transaction():
            # The row first: a second delivery of the same event waits on this key, then fails.
            record = StripeEvent(
                id=event_id,
                type=event_type,
                object_id=str(obj.get("id") or "")[:64] or None,
                outcome="received",
                details={},
            )
            session.add(record)
            session.flush()
            handler = HANDLERS.get(event_type)
            outcome, details = handler(obj) if handler else ("ignored", {})
            record.outcome = outcome
            record.details = details
    except IntegrityError:
        if db.session.get(StripeEvent, event_id) is not None:
            return "duplicate"
        raise
    logger.info("stripe event %s (%s): %s", event_id, event_type, outcome)
    return outcome


def _top_up_for(pi: dict) -> TopUp | None:
    session = db.session
    metadata = pi.get("metadata") or {}
    raw = str(metadata.get("leadex_top_up_id") or "")
    org = str(metadata.get("leadex_organization_id") or "")
    if raw.isdigit():
        top_up = session.get(TopUp, int(raw))
        if (
            top_up is not None
            and top_up.stripe_payment_intent_id in (None, pi.get("id"))
            and org in ("", str(top_up.organization_id))
        ):
            return top_up
    if pi.get("id"):
        return session.scalar(select(TopUp).where(TopUp.stripe_payment_intent_id == pi["id"]))
    return None


def _payment_intent_succeeded(pi: dict) -> tuple[str, dict]:
    top_up = _top_up_for(pi)
    if top_up is None:
        return "ignored", {"reason": "not a Leadex top-up"}
    result = dataclasses.replace(gateway.payment_intent_from_dict(pi), status="succeeded")
    outcome = apply_payment_intent(top_up.id, result)
    return outcome, {"top_up_id": top_up.id}


def _payment_intent_failed(pi: dict) -> tuple[str, dict]:
    top_up = _top_up_for(pi)
    if top_up is None:
        return "ignored", {"reason": "not a Leadex top-up"}
    result = gateway.payment_intent_from_dict(pi)
    failed = settle_top_up_failed(
        top_up.id,
        code=result.failure_code or "payment_failed",
        message=result.failure_message or "The payment failed.",
        payment_intent_id=result.id,
    )
    return ("failed" if failed else "unchanged"), {"top_up_id": top_up.id}


def _charge_refunded(charge: dict) -> tuple[str, dict]:
    session = db.session
    pi_id = charge.get("payment_intent")
    if isinstance(pi_id, dict):
        pi_id = pi_id.get("id")
    top_up = (
        session.scalar(select(TopUp).where(TopUp.stripe_payment_intent_id == pi_id))
        if pi_id
        else None
    )
    if top_up is None:
        return "ignored", {"reason": "not a Leadex top-up"}
    refunds = charge.get("refunds")
    if isinstance(refunds, dict):
        refunds = refunds.get("data")
    recorded = []
    if isinstance(refunds, list) and refunds:
        for item in refunds:
            if isinstance(item, dict) and item.get("id"):
                recorded.extend(_one_refund(top_up, gateway.refund_from_dict(item)))
    else:
        # Newer API versions leave the list out: compare the refunded total instead.
        known = session.scalar(
            select(func.coalesce(func.sum(RefundPart.amount_cents), 0)).where(
                RefundPart.top_up_id == top_up.id, RefundPart.status != "failed"
            )
        )
        extra = int(charge.get("amount_refunded") or 0) - int(known)
        if extra > 0:
            refund_id = f"{charge.get('id')}#{charge.get('amount_refunded')}"
            record_external_refund(
                top_up=top_up, stripe_refund_id=refund_id[:64], amount_cents=extra
            )
            recorded.append(refund_id)
    return ("recorded" if recorded else "unchanged"), {"top_up_id": top_up.id, "refunds": recorded}


def _one_refund(top_up: TopUp, refund: dict) -> list[str]:
    session = db.session
    if session.scalar(select(RefundPart.id).where(RefundPart.stripe_refund_id == refund["id"])):
        return []
    raw = str(refund["metadata"].get("leadex_refund_part_id") or "")
    if raw.isdigit():
        part = session.get(RefundPart, int(raw))
        if part is not None and part.top_up_id == top_up.id and part.status == "pending":
            settle_refund_part(part.id, stripe_refund_id=refund["id"])
            return [refund["id"]]
        if part is not None and part.status == "failed":
            # We gave this part back to the wallet but Stripe made it after all.
            logger.error(
                "refund part %s was credited back but Stripe refunded it as %s",
                part.id,
                refund["id"],
            )
            session.execute(
                update(RefundPart)
                .where(RefundPart.id == part.id)
                .values(failure_message=f"made at Stripe as {refund['id']} after all")
                .execution_options(synchronize_session=False)
            )
    if refund.get("status") not in (None, "succeeded", "pending"):
        return []
    record_external_refund(
        top_up=top_up, stripe_refund_id=refund["id"], amount_cents=refund["amount_cents"]
    )
    return [refund["id"]]


HANDLERS = {
    "payment_intent.succeeded": _payment_intent_succeeded,
    "payment_intent.payment_failed": _payment_intent_failed,
    "charge.refunded": _charge_refunded,
}
