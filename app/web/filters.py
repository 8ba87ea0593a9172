"""Template filters every page may use: money, phone numbers and rates as people read them."""

from __future__ import annotations

import phonenumbers
from flask import Flask

from app.money import dollars


def phone(value: str | None) -> str:
    """E.164 as people read it: +1 415-200-1000; anything unparsable is shown as it is."""
    if not value:
        return ""
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        return value
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def pct(value: float | None, digits: int = 1) -> str:
    """A rate as a percentage (0.125 -> 12.5%); a missing rate is a dash, not 0%."""
    if value is None:
        return "—"
    return f"{100 * value:.{digits}f}%"


FILTERS = {"dollars": dollars, "phone": phone, "pct": pct}


def register_filters(app: Flask) -> None:
    for name, function in FILTERS.items():
        app.add_template_filter(function, name)
