"""The limits of billing's amounts, and the checks of amounts and idempotency keys that its
use cases share (forms and schemas read the same limits)."""

from __future__ import annotations

from app.errors import Invalid

MIN_TOP_UP_CENTS = 500
MAX_TOP_UP_CENTS = 1_000_000
MAX_AMOUNT_CENTS = 100_000_000_000  # a sanity bound for any one movement ($1bn)


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


def check_idempotency_key(key, field: str = "idempotency_key") -> str:
    if not isinstance(key, str) or not key.strip() or len(key) > 200:
        raise Invalid("An idempotency key is required.", details={field: ["1-200 characters."]})
    return key
