"""The suppression list: people never to sell again, by email or phone. Adding one withdraws
the person's listed leads in the same transaction."""

from __future__ import annotations

from sqlalchemy import select, update

from app.auth.models import User
from app.auth.services import record_audit
from app.db import transaction, utcnow
from app.errors import Invalid, NotFound
from app.extensions import db
from marketplace.models import Lead, Suppression
from verification.rules.checks import CheckContext, check_row


def add_suppression(
    *,
    actor: User | None,
    email: str | None = None,
    phone: str | None = None,
    reason: str | None = None,
) -> Suppression:
    """Never sell this person again; values are normalised like intake normalises them.

    The person's listed leads are withdrawn at once; leads already sold stay with their buyers.
    """
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
        column = Lead.email if kind == "email" else Lead.phone
        withdrawn = db.session.execute(
            update(Lead)
            .where(column == value, Lead.status == "listed")
            .values(status="withdrawn")
            .execution_options(synchronize_session=False)
        ).rowcount
        record_audit(
            actor=actor,
            action="suppression.added",
            obj=row,
            details={"kind": kind, "leads_withdrawn": withdrawn},
        )
    return row


def list_suppressions():
    """Every suppression, newest first (a select for paging)."""
    return select(Suppression)


def remove_suppression(*, actor: User | None, suppression_id: int) -> None:
    """Take a suppression off the list; leads it withdrew stay withdrawn."""
    with transaction() as session:
        row = db.session.get(Suppression, suppression_id)
        if row is None:
            raise NotFound("No such suppression.")
        record_audit(
            actor=actor, action="suppression.removed", obj=row, details={"kind": row.kind}
        )
        session.delete(row)
