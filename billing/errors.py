"""Billing's errors: each one a status and a machine code of api-v1.md."""

from __future__ import annotations

from app.errors import AppError, Conflict, Invalid, NotFound, PaymentRequired, ServiceUnavailable
from billing.ledger import InsufficientFunds, LedgerConflict

__all__ = [
    "CardDeclined",
    "InsufficientFunds",
    "LedgerConflict",
    "NoPaymentMethod",
    "PaymentProviderError",
    "PaymentProviderUnavailable",
    "IdempotencyConflict",
    "NotFound",
]


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


class IdempotencyConflict(Conflict):
    code = "idempotency_key_reused"
    message = "This idempotency key was used for a different operation."
