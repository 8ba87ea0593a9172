"""Money shown to people and typed by them: integer cents in, dollars out, no floats."""

from decimal import Decimal

CENT = Decimal("0.01")


def dollars(cents: int | None) -> str:
    """``123456`` -> ``$1,234.56``; negative amounts carry a minus sign."""
    cents = int(cents or 0)
    sign = "−" if cents < 0 else ""
    cents = abs(cents)
    return f"{sign}${cents // 100:,}.{cents % 100:02d}"


def to_cents(amount: Decimal) -> int:
    """A validated dollar amount (whole cents) as integer cents, by Decimal arithmetic."""
    return int(amount * 100)
