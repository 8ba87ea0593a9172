"""Helpers that write lead files for intake tests."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from app.db import utcnow

HEADER = [
    "first_name",
    "last_name",
    "email",
    "phone",
    "country",
    "postal_code",
    "city",
    "captured_at",
    "consent_text",
    "consented_at",
    "consent_ip",
    "consent_url",
]


def good_row(n: int, **overrides) -> dict:
    when = (utcnow() - timedelta(days=2)).replace(microsecond=0).isoformat()
    row = {
        "first_name": "Maria",
        "last_name": f"Lopez{n}",
        "email": f"maria.lopez{n}@gmail.com",
        "phone": f"+1 415 2{n % 100:02d} {1000 + n % 9000:04d}",
        "country": "US",
        "postal_code": "94103",
        "city": "San Francisco",
        "captured_at": when,
        "consent_text": "I agree to be contacted about solar quotes.",
        "consented_at": when,
        "consent_ip": "203.0.113.7",
        "consent_url": "https://example.com/solar",
    }
    row.update(overrides)
    return row


def csv_bytes(
    rows: list[dict], header: list[str] | None = None, delimiter: str = ",", newline: str = "\r\n"
) -> bytes:
    header = header or list(rows[0].keys()) if rows else (header or HEADER)
    buffer = io.StringIO()
    writer = csv.DictWriter(
        buffer,
        fieldnames=header,
        delimiter=delimiter,
        lineterminator=newline,
        extrasaction="ignore",
    )
    writer.writeheader()
    for row in rows:
        writer.writerow(row)
    return buffer.getvalue().encode("utf-8")
