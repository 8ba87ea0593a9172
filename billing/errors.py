"""Billing's errors: each one a status and a machine code of api-v1.md.

A leaf: it imports only app/, so every billing module, the ledger included, raises from here.
A key reused for another request is the app-level ``IdempotencyKeyReused``, the same error the
``Idempotency-Key`` header gives.
"""

from __future__ import annotations

from app.errors import AppError, Conflict, Invalid, NotFound, PaymentRequired, ServiceUnavailable
from app.idempotency import IdempotencyKeyReused

__all__ = [
    "CardDeclined",
    "IdempotencyKeyReused",
    "JsonObjectExpected",
    "InsufficientFunds",
    "LedgerConflict",
    "NoPaymentMethod",
    "NotFound",
    "PaymentProviderError",
    "PaymentMethodUnknown",
    "PaymentProviderUnavailable",
    "WebhookEventMalformed",
    "WebhookSignatureInvalid",
]


class InsufficientFunds(PaymentRequired):
    code = "insufficient_funds"
    message = "The wallet balance is too low."


class LedgerConflict(Conflict):
    code = "ledger_conflict"
    message = "The accounts changed under this operation; nothing was moved."


class CardDeclined(PaymentRequired):
    code = "card_declined"
    message = "The card was declined."


class PaymentProviderUnavailable(ServiceUnavailable):
    code = "payment_provider_unavailable"
    message = "The payment provider could not be reached; nothing was charged. Try again shortly."


class PaymentProviderError(AppError):
    status_code = 502
    code = "payment_provider_error"
    message = "The payment provider refused the request."


class NoPaymentMethod(Invalid):
    code = "no_payment_method"
    message = "Add a card first: there is no card to charge."

    def __init__(self, message: str | None = None, **kwargs):
        kwargs.setdefault(
            "details", {"payment_method": ["No card on file: add one before topping up."]}
        )
        super().__init__(message, **kwargs)


class PaymentMethodUnknown(Invalid):
    """A card id Stripe does not know, or one saved by another organisation: one answer for
    both, so the answer never hints that someone else's card exists."""

    code = "invalid_payment_method"
    message = "The payment provider does not know this card."

    def __init__(self, message: str | None = None, **kwargs):
        kwargs.setdefault("details", {"payment_method": ["Unknown payment method."]})
        super().__init__(message, **kwargs)


class JsonObjectExpected(AppError):
    status_code = 400
    code = "bad_request"
    message = "Send a JSON object."


class WebhookSignatureInvalid(AppError):
    status_code = 400
    code = "invalid_signature"
    message = "The webhook signature is missing or does not match."


class WebhookEventMalformed(AppError):
    status_code = 400
    code = "malformed_event"
    message = "The event is signed but is not a Stripe object Leadex can read; nothing changed."
