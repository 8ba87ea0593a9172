"""The suppression list: people never to sell again, by email or phone."""

from __future__ import annotations

from sqlalchemy import select

from app.auth.models import User
from app.auth.services import record_audit
from app.db import transaction, utcnow
from app.errors import Invalid
from app.extensions import db
from marketplace.models import Suppression
from verification.rules.checks import CheckContext, check_row


def add_suppression(
    *,
    actor: User | None,
    email: str | None = None,
    phone: str | None = None,
    reason: str | None = None,
) -> Suppression:
    """Never sell this person again; values are normalised like intake normalises them."""
    if bool(email) == bool(phone):
        raise Invalid("Give an email or a phone.", details={"email": ["Email or phone."]})
    probe = check_row(
        {"email": email, "phone": phone, "country": "US"}, CheckContext(now=utcnow())
    )
    kind = "email" if email else "phone"
    value = probe.values[kind]
    if kind == "email" and value:
        value = value.lower()
    if not value:
        bad = [r.message for r in probe.rejections if r.field == kind] or ["Not valid."]
        raise Invalid(f"The {kind} is not valid.", details={kind: bad})
    with transaction() as session:
        existing = db.session.scalar(
            select(Suppression).where(Suppression.kind == kind, Suppression.value == value)
        )
        if existing:
            return existing
        row = Suppression(kind=kind, value=value, reason=reason)
        session.add(row)
        session.flush()
        record_audit(actor=actor, action="suppression.added", obj=row, details={"kind": kind})
    return row
