"""Seller payouts: where a seller is paid, payout requests, the provider that pays them.

The local Stripe server has no Connect, so payouts go through a provider interface. The one
provider here is manual: an admin pays by bank transfer to the details the seller recorded and
marks the payout paid with the transfer's reference. A request reserves the amount out of the
seller's available earnings; marking it paid moves it to paid out in the ledger.
"""

from __future__ import annotations

import logging
from typing import Protocol

from flask import current_app
from sqlalchemy import update

from app.auth.models import User
from app.auth.services import record_audit
from app.db import insert_if_absent, transaction, utcnow
from app.errors import Conflict, Invalid, NotFound
from app.extensions import db
from app.idempotency import create_once
from billing import ledger, queries
from billing.errors import IdempotencyKeyReused
from billing.models import CURRENCY, Payout, PayoutDetails

logger = logging.getLogger(__name__)

MAX_DETAILS_LENGTH = 2_000
MAX_REFERENCE_LENGTH = 200


class PayoutProvider(Protocol):
    """Something that sends money to a seller."""

    name: str

    def submit(self, payout: Payout) -> str | None:
        """Start paying ``payout`` (after its request committed). Return the provider's
        reference if it is paid at once, or None when it is marked paid later."""


class ManualPayoutProvider:
    """Staff pay by bank transfer and mark the payout paid with the transfer's reference."""

    name = "manual"

    def submit(self, payout: Payout) -> str | None:
        logger.info(
            "payout %s of %s cents waits for a manual transfer", payout.id, payout.amount_cents
        )
        return None


PROVIDERS: dict[str, PayoutProvider] = {"manual": ManualPayoutProvider()}


def register_provider(provider: PayoutProvider) -> None:
    PROVIDERS[provider.name] = provider


def get_provider() -> PayoutProvider:
    return PROVIDERS[current_app.config.get("BILLING_PAYOUT_PROVIDER") or "manual"]


def save_payout_details(
    *, seller_org_id: int, details: str, actor: User | None = None
) -> PayoutDetails:
    """Record where the seller is paid (free text for the manual provider)."""
    text = (details or "").strip() if isinstance(details, str) else ""
    if not text or len(text) > MAX_DETAILS_LENGTH:
        raise Invalid(
            "Say where you are paid.",
            details={"bank_details": [f"1 to {MAX_DETAILS_LENGTH} characters."]},
        )
    with transaction() as session:
        insert_if_absent(
            PayoutDetails,
            key=["organization_id"],
            organization_id=seller_org_id,
            details=text,
            updated_at=utcnow(),
        )
        row = session.get(PayoutDetails, seller_org_id)
        row.details = text
        row.updated_at = utcnow()
        session.flush()
        if actor is not None:
            record_audit(
                actor=actor, action="payout_details.updated", obj=row, object_id=seller_org_id
            )
    return row


def request_payout(
    *,
    seller_org_id: int,
    amount_cents: int | None = None,
    idempotency_key: str | None = None,
    actor: User | None = None,
) -> Payout:
    """Ask to be paid ``amount_cents`` (default: everything available) of available earnings.

    The amount is reserved at once (a conditional update), so two requests cannot promise the
    same cents; 422 when it is more than is available or no bank details are recorded.
    """
    if amount_cents is not None and (
        not isinstance(amount_cents, int) or isinstance(amount_cents, bool) or amount_cents < 1
    ):
        raise Invalid(
            "The amount is not valid.",
            details={"amount_cents": ["A whole number of cents, at least 1."]},
        )
    provider = get_provider()
    payout, is_new = create_once(
        lambda: (
            queries.get_payout_by_key(seller_org_id, idempotency_key) if idempotency_key else None
        ),
        lambda: _record_payout(seller_org_id, amount_cents, idempotency_key, provider, actor),
    )
    if not is_new:
        if amount_cents is not None and payout.amount_cents != amount_cents:
            raise IdempotencyKeyReused(details={"payout_id": payout.id})
        return payout
    reference = provider.submit(payout)
    if reference:
        return mark_payout_paid(payout_id=payout.id, reference=reference, actor=None)
    return payout


def _record_payout(
    seller_org_id: int,
    amount_cents: int | None,
    idempotency_key: str | None,
    provider: PayoutProvider,
    actor: User | None,
) -> Payout:
    """Reserve the amount out of available earnings and record the payout (flush only)."""
    session = db.session
    details = session.get(PayoutDetails, seller_org_id)
    if details is None:
        raise Invalid(
            "Record where you are paid before asking for a payout.",
            code="payout_details_missing",
            details={"bank_details": ["Required before a payout."]},
        )
    available = ledger.get_account("seller_available", seller_org_id)
    session.refresh(available)
    free = available.balance_cents - available.reserved_cents
    amount = free if amount_cents is None else amount_cents
    if amount < 1 or not ledger.reserve(available, amount):
        raise Invalid(
            "That is more than your available earnings.",
            code="amount_exceeds_available",
            details={
                "amount_cents": [f"At most {max(free, 0)} cents are available."],
                "available_cents": max(free, 0),
            },
        )
    payout = Payout(
        organization_id=seller_org_id,
        idempotency_key=idempotency_key,
        amount_cents=amount,
        currency=CURRENCY,
        status="requested",
        provider=provider.name,
        destination=details.details,
    )
    session.add(payout)
    session.flush()
    if actor is not None:
        record_audit(
            actor=actor,
            action="payout.requested",
            obj=payout,
            details={"amount_cents": amount},
        )
    return payout


def mark_payout_paid(*, payout_id: int, reference: str, actor: User | None = None) -> Payout:
    """The money was sent: available -> paid out in the ledger, with the transfer reference.

    Once: the same reference again returns the payout; another reference is 409.
    """
    reference = reference.strip() if isinstance(reference, str) else ""
    if not reference or len(reference) > MAX_REFERENCE_LENGTH:
        raise Invalid(
            "Give the payment's reference.",
            details={"reference": [f"1 to {MAX_REFERENCE_LENGTH} characters."]},
        )
    with transaction() as session:
        done = session.execute(
            update(Payout)
            .where(Payout.id == payout_id, Payout.status == "requested")
            .values(
                status="paid",
                reference=reference,
                paid_at=utcnow(),
                paid_by_id=actor.id if actor else None,
            )
            .execution_options(synchronize_session=False)
        ).rowcount
        payout = session.get(Payout, payout_id)
        if payout is None:
            raise NotFound("No such payout.")
        session.refresh(payout)
        if not done:
            if payout.reference == reference:
                return payout
            raise Conflict(
                "The payout was already marked paid.",
                code="payout_already_paid",
                details={"reference": payout.reference},
            )
        available = ledger.get_account("seller_available", payout.organization_id, payout.currency)
        ledger.unreserve(available, payout.amount_cents)
        ledger.post(
            kind="payout",
            key=f"payout:{payout.id}",
            reference=f"payout {payout.id}: {reference}",
            currency=payout.currency,
            lines=[
                (available, -payout.amount_cents),
                (
                    ledger.get_account("seller_paid_out", payout.organization_id, payout.currency),
                    payout.amount_cents,
                ),
            ],
        )
        if actor is not None:
            record_audit(
                actor=actor,
                action="payout.paid",
                obj=payout,
                details={"reference": reference, "amount_cents": payout.amount_cents},
            )
    return payout
