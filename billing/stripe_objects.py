"""Stripe's objects read strictly into ours: a PaymentIntent, a Charge, a Refund, a card.

Pure (no SDK, no network): the gateway reads its answers with these, and the webhook reads the
objects of signed events with them. A field Leadex relies on that is missing or of the wrong
type is ``MalformedObject``, because a signed event is only as well formed as its sender.
"""

from __future__ import annotations

from dataclasses import dataclass

from billing.amounts import MAX_AMOUNT_CENTS

MAX_ID_LENGTH = 64  # our columns for Stripe ids; Stripe's own are far shorter


class MalformedObject(ValueError):
    """A Stripe object that lacks a field Leadex relies on, or has one of the wrong type."""


@dataclass(frozen=True)
class PaymentIntentResult:
    id: str
    status: str
    amount_cents: int
    currency: str
    charge_id: str | None
    metadata: dict
    failure_code: str | None = None
    failure_message: str | None = None


def _as_object(value, what: str) -> dict:
    if not isinstance(value, dict):
        raise MalformedObject(f"{what} is not an object")
    return value


def _id(obj: dict, name: str) -> str:
    value = obj.get(name)
    if not isinstance(value, str) or not 0 < len(value) <= MAX_ID_LENGTH:
        raise MalformedObject(f"{name} is not an id: {value!r:.40}")
    return value


def _text(obj: dict, name: str) -> str | None:
    value = obj.get(name)
    if value is not None and not isinstance(value, str):
        raise MalformedObject(f"{name} is not text: {value!r:.40}")
    return value


def _cents(obj: dict, name: str, *, low: int = 0) -> int:
    value = obj.get(name)
    if (
        not isinstance(value, int)
        or isinstance(value, bool)
        or not low <= value <= MAX_AMOUNT_CENTS
    ):
        raise MalformedObject(f"{name} is not a whole number of cents: {value!r:.40}")
    return value


def _linked_id(value, what: str) -> str | None:
    """An object Stripe names by id or embeds (the local server embeds, old API shape)."""
    if value is None:
        return None
    if isinstance(value, dict):
        return _id(value, "id")
    if not isinstance(value, str):
        value = getattr(value, "id", value)
    return _id({what: value}, what)


def _charge_id(latest_charge) -> str | None:
    return _linked_id(latest_charge, "charge")


def payment_intent_from_dict(pi: dict) -> PaymentIntentResult:
    """A PaymentIntent, from an answer or a webhook event."""
    pi = _as_object(pi, "the payment intent")
    error = _as_object(pi.get("last_payment_error") or {}, "last_payment_error")
    return PaymentIntentResult(
        id=_id(pi, "id"),
        status=_id(pi, "status"),
        amount_cents=_cents(pi, "amount"),
        currency=_text(pi, "currency") or "usd",
        charge_id=_charge_id(pi.get("latest_charge")),
        metadata=dict(_as_object(pi.get("metadata"), "metadata")),
        failure_code=_text(error, "code"),
        failure_message=_text(error, "message"),
    )


def charge_from_dict(charge: dict) -> dict:
    """A Charge as a ``charge.refunded`` event carries it: its id, its PaymentIntent's id, its
    refunds (None when the event leaves the list out, as newer API versions do) and the
    refunded total."""
    charge = _as_object(charge, "the charge")
    refunds = charge.get("refunds")
    if isinstance(refunds, dict):
        refunds = refunds.get("data")
    if refunds is not None and not isinstance(refunds, list):
        raise MalformedObject("refunds is not a list")
    return {
        "id": _id(charge, "id"),
        "payment_intent": _linked_id(charge.get("payment_intent"), "payment_intent"),
        "refunds": [refund_from_dict(item) for item in refunds] if refunds else None,
        "amount_refunded": _cents(charge, "amount_refunded"),
    }


def card_from_dict(pm: dict) -> dict:
    """A PaymentMethod as the card we save."""
    card = pm.get("card") or {}
    return {
        "id": pm["id"],
        "brand": card.get("brand") or pm.get("type") or "card",
        "last4": card.get("last4") or "",
        "exp_month": card.get("exp_month"),
        "exp_year": card.get("exp_year"),
        "customer": pm.get("customer"),
    }


def refund_from_dict(refund: dict) -> dict:
    """A Refund, from an answer or inside a Charge's refund list."""
    refund = _as_object(refund, "a refund")
    return {
        "id": _id(refund, "id"),
        "amount_cents": _cents(refund, "amount", low=1),
        "status": _text(refund, "status"),
        "payment_intent": _linked_id(refund.get("payment_intent"), "payment_intent"),
        "charge": _charge_id(refund.get("charge")),
        "metadata": dict(_as_object(refund.get("metadata") or {}, "metadata")),
    }
