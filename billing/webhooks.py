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
from billing.errors import WebhookEventMalformed
from billing.models import RefundPart, StripeEvent, TopUp
from billing.refunds import record_external_refund, settle_refund_part
from billing.stripe_objects import (
    MalformedObject,
    PaymentIntentResult,
    charge_from_dict,
    payment_intent_from_dict,
)
from billing.top_ups import apply_payment_intent, settle_top_up_failed

logger = logging.getLogger(__name__)

# Our row ids are INTEGER columns: an id in metadata beyond this cannot be ours.
MAX_ROW_ID = 2**31 - 1


def process_event(event: dict) -> str:
    """Store and handle one verified event; its outcome ("duplicate" when seen before).

    A signed event whose object is malformed is refused whole (400, logged): nothing is
    stored, so nothing of it is half applied, and Stripe's retries are refused the same way.
    """
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
    except MalformedObject as exc:
        logger.warning("stripe event %s (%s) is malformed: %s", event_id, event_type, exc)
        raise WebhookEventMalformed(details={"reason": str(exc)}) from exc
    logger.info("stripe event %s (%s): %s", event_id, event_type, outcome)
    return outcome


def _metadata_id(metadata: dict, key: str) -> int | None:
    """One of our own ids written into Stripe metadata, or None when the key is absent."""
    raw = metadata.get(key)
    if raw is None or raw == "":
        return None
    if not isinstance(raw, str) or not raw.isascii() or not raw.isdigit():
        raise MalformedObject(f"{key} is not an id: {raw!r:.40}")
    value = int(raw)
    if not 0 < value <= MAX_ROW_ID:
        raise MalformedObject(f"{key} is out of range: {raw!r:.40}")
    return value


def _top_up_for(pi: PaymentIntentResult) -> TopUp | None:
    session = db.session
    top_up_id = _metadata_id(pi.metadata, "leadex_top_up_id")
    org = str(pi.metadata.get("leadex_organization_id") or "")
    if top_up_id is not None:
        top_up = session.get(TopUp, top_up_id)
        if (
            top_up is not None
            and top_up.stripe_payment_intent_id in (None, pi.id)
            and org in ("", str(top_up.organization_id))
        ):
            return top_up
    return session.scalar(select(TopUp).where(TopUp.stripe_payment_intent_id == pi.id))


def _payment_intent_succeeded(obj: dict) -> tuple[str, dict]:
    pi = payment_intent_from_dict(obj)
    top_up = _top_up_for(pi)
    if top_up is None:
        return "ignored", {"reason": "not a Leadex top-up"}
    outcome = apply_payment_intent(top_up.id, dataclasses.replace(pi, status="succeeded"))
    return outcome, {"top_up_id": top_up.id}


def _payment_intent_failed(obj: dict) -> tuple[str, dict]:
    pi = payment_intent_from_dict(obj)
    top_up = _top_up_for(pi)
    if top_up is None:
        return "ignored", {"reason": "not a Leadex top-up"}
    failed = settle_top_up_failed(
        top_up.id,
        code=pi.failure_code or "payment_failed",
        message=pi.failure_message or "The payment failed.",
        payment_intent_id=pi.id,
    )
    return ("failed" if failed else "unchanged"), {"top_up_id": top_up.id}


def _charge_refunded(obj: dict) -> tuple[str, dict]:
    session = db.session
    charge = charge_from_dict(obj)
    pi_id = charge["payment_intent"]
    top_up = (
        session.scalar(select(TopUp).where(TopUp.stripe_payment_intent_id == pi_id))
        if pi_id
        else None
    )
    if top_up is None:
        return "ignored", {"reason": "not a Leadex top-up"}
    recorded = []
    if charge["refunds"]:
        for refund in charge["refunds"]:
            recorded.extend(_one_refund(top_up, refund))
    else:
        # Newer API versions leave the list out: compare the refunded total instead.
        known = session.scalar(
            select(func.coalesce(func.sum(RefundPart.amount_cents), 0)).where(
                RefundPart.top_up_id == top_up.id, RefundPart.status != "failed"
            )
        )
        extra = charge["amount_refunded"] - int(known)
        if extra > 0:
            refund_id = f"{charge['id']}#{charge['amount_refunded']}"
            record_external_refund(
                top_up=top_up, stripe_refund_id=refund_id[:64], amount_cents=extra
            )
            recorded.append(refund_id)
    return ("recorded" if recorded else "unchanged"), {"top_up_id": top_up.id, "refunds": recorded}


def _one_refund(top_up: TopUp, refund: dict) -> list[str]:
    session = db.session
    if session.scalar(select(RefundPart.id).where(RefundPart.stripe_refund_id == refund["id"])):
        return []
    part_id = _metadata_id(refund["metadata"], "leadex_refund_part_id")
    if part_id is not None:
        part = session.get(RefundPart, part_id)
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
