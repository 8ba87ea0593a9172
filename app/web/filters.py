"""Template filters every page may use: money, phone numbers and rates as people read them."""

from __future__ import annotations

from datetime import timedelta

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


def duration(value: timedelta | None) -> str:
    """A span as people say it, to its two largest units: 2 days 4 hours, 35 minutes."""
    if value is None:
        return "—"
    seconds = int(value.total_seconds())
    if seconds < 60:
        return "less than a minute"
    parts = []
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count} {unit}{'s' * (count != 1)}")
    return " ".join(parts[:2])


FILTERS = {"dollars": dollars, "phone": phone, "pct": pct, "duration": duration}


def register_filters(app: Flask) -> None:
    for name, function in FILTERS.items():
        app.add_template_filter(function, name)
