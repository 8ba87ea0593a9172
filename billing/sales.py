"""Sales: a purchase moves the buyer's wallet to the seller's pending earnings and the platform's
fee; a sale is held (dispute), reversed (inside the return window) or released to the seller."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update

from app.db import dialect_insert, end_read, transaction, utcnow
from app.errors import Conflict, Invalid
from app.extensions import db
from app.settings import get_settings
from billing import ledger, queries
from billing.amounts import check_amount, check_idempotency_key
from billing.errors import IdempotencyKeyReused
from billing.models import CURRENCY, Sale

RELEASE_CHUNK = 200


def charge_purchase(
    *,
    buyer_org_id: int,
    seller_org_id: int,
    amount_cents: int,
    reference: str,
    idempotency_key: str,
    release_after: datetime,
    currency: str = CURRENCY,
) -> Sale:
    """Take ``amount_cents`` from the buyer's wallet: the platform's fee (the admin setting,
    rounded half up to the cent) to platform revenue, the rest to the seller's pending earnings.

    The same key again returns the first sale and moves nothing; the same key for another
    buyer, seller or amount is 409.
    """
    check_amount(amount_cents)
    check_idempotency_key(idempotency_key)
    if buyer_org_id == seller_org_id:
        raise Invalid("An organisation cannot buy from itself.", code="own_sale")
    if not isinstance(release_after, datetime) or release_after.tzinfo is None:
        raise ValueError("release_after must be an aware datetime")

    with transaction() as session:
        fee_bps = get_settings().platform_fee_bps
        fee = ledger.platform_fee_cents(amount_cents, fee_bps)
        # One INSERT ... ON CONFLICT (idempotency_key) DO NOTHING: a new key makes the sale in
        # one statement; a key already used (or a twin racing it) makes nothing, and the sale
        # it made is read and compared.
        sale = session.scalar(
            dialect_insert(Sale)
            .values(
                idempotency_key=idempotency_key,
                reference=reference,
                buyer_org_id=buyer_org_id,
                seller_org_id=seller_org_id,
                amount_cents=amount_cents,
                fee_bps=fee_bps,
                fee_cents=fee,
                seller_cents=amount_cents - fee,
                currency=currency,
                status="pending",
                is_held=False,
                release_after=release_after,
            )
            .on_conflict_do_nothing(index_elements=["idempotency_key"])
            .returning(Sale)
        )
        if sale is None:
            sale = queries.get_sale_by_key(idempotency_key)
            _check_same_sale(sale, buyer_org_id, seller_org_id, amount_cents)
            return sale
        ledger.post(
            kind="sale",
            key=f"sale:{sale.id}",
            reference=reference,
            currency=currency,
            lines=[
                (ledger.get_account("buyer_wallet", buyer_org_id, currency), -amount_cents),
                (ledger.get_account("seller_pending", seller_org_id, currency), sale.seller_cents),
                (ledger.get_account("platform_revenue", None, currency), fee),
            ],
        )
    return sale


def lock_accounts_for_purchase(
    *, buyer_org_id: int, seller_org_ids, currency: str = CURRENCY
) -> int:
    """Inside the caller's transaction, before several ``charge_purchase`` calls: lock the
    buyer's wallet and each seller's pending earnings in one global order, so purchases
    spanning several sellers never deadlock on each other. Platform revenue is made if missing
    but not locked: it has no cached balance, so purchases never queue on it. Returns the
    buyer's wallet balance in cents, read under the lock (no other purchase can move it before
    this transaction ends). The accounts are read once here; the charges reuse them."""
    accounts = ledger.lock_accounts(
        [
            ("buyer_wallet", buyer_org_id),
            ("platform_revenue", None),
            *(("seller_pending", seller) for seller in seller_org_ids),
        ],
        currency,
    )
    return accounts[("buyer_wallet", buyer_org_id)].balance_cents


def _check_same_sale(sale: Sale, buyer_org_id, seller_org_id, amount_cents) -> None:
    """A sale found by its key was made by this same purchase, or the key is reused (409)."""
    if (sale.buyer_org_id, sale.seller_org_id, sale.amount_cents) != (
        buyer_org_id,
        seller_org_id,
        amount_cents,
    ):
        raise IdempotencyKeyReused(details={"sale_id": sale.id})


def reverse_sale(*, sale_id: int, reference: str | None = None) -> Sale:
    """Give the buyer the whole amount back from seller pending and platform revenue, once.

    A sale already reversed is returned as it is; a released sale is 409 (its money has left
    pending: hold a sale while its dispute is open).
    """
    with transaction() as session:
        done = session.execute(
            update(Sale)
            .where(Sale.id == sale_id, Sale.status == "pending")
            .values(status="reversed", reversed_at=utcnow(), reversal_reference=reference)
            .execution_options(synchronize_session=False)
        ).rowcount
        sale = queries.get_sale(sale_id)
        session.refresh(sale)
        if not done:
            if sale.status == "reversed":
                return sale
            raise Conflict(
                "The sale was already released to the seller.",
                code="sale_released",
                details={"sale_id": sale_id},
            )
        ledger.post(
            kind="sale_reversal",
            key=f"sale_reversal:{sale.id}",
            reference=reference or f"reversal of {sale.reference}",
            currency=sale.currency,
            lines=[
                (
                    ledger.get_account("buyer_wallet", sale.buyer_org_id, sale.currency),
                    sale.amount_cents,
                ),
                (
                    ledger.get_account("seller_pending", sale.seller_org_id, sale.currency),
                    -sale.seller_cents,
                ),
                (ledger.get_account("platform_revenue", None, sale.currency), -sale.fee_cents),
            ],
        )
    return sale


def set_sale_hold(*, sale_id: int, is_held: bool, reason: str | None = None) -> Sale:
    """Hold a sale (an open dispute) or let it go: a held sale is never released.

    Holding is a conditional update on a sale still ``pending``, so a hold racing
    ``release_earnings`` at the deadline either wins (the release skips the held sale) or is
    refused with 409 ``sale_released``: no dispute is left open on money that has left.
    """
    with transaction() as session:
        if is_held:
            done = session.execute(
                update(Sale)
                .where(Sale.id == sale_id, Sale.status == "pending")
                .values(is_held=True, hold_reason=reason)
                .execution_options(synchronize_session=False)
            ).rowcount
            if not done:
                raise Conflict(
                    "The sale was already released to the seller.",
                    code="sale_released",
                    details={"sale_id": sale_id},
                )
        else:
            session.execute(
                update(Sale)
                .where(Sale.id == sale_id)
                .values(is_held=False, hold_reason=None)
                .execution_options(synchronize_session=False)
            )
        sale = queries.get_sale(sale_id)
        session.refresh(sale)
    return sale


def release_earnings(*, now: datetime | None = None) -> int:
    """Move the seller's share of every due, unheld, pending sale to available; how many.

    Each sale is released once (a conditional status update), in chunks of one transaction.
    """
    now = now or utcnow()
    released = 0
    last_id = 0
    while True:
        ids = db.session.scalars(
            select(Sale.id)
            .where(
                Sale.status == "pending",
                Sale.is_held.is_(False),
                Sale.release_after <= now,
                Sale.id > last_id,
            )
            .order_by(Sale.id)
            .limit(RELEASE_CHUNK)
        ).all()
        end_read()
        if not ids:
            return released
        last_id = ids[-1]
        with transaction() as session:
            # Lock the chunk's seller accounts first, in id order, as purchases do: posting
            # release by release would lock them in sale order and could deadlock against a
            # multi-seller purchase on PostgreSQL.
            sellers = session.scalars(
                select(Sale.seller_org_id).where(Sale.id.in_(ids)).distinct()
            ).all()
            ledger.lock_accounts(
                [(kind, org) for org in sellers for kind in ("seller_pending", "seller_available")]
            )
            for sale_id in ids:
                done = session.execute(
                    update(Sale)
                    .where(
                        Sale.id == sale_id,
                        Sale.status == "pending",
                        Sale.is_held.is_(False),
                        Sale.release_after <= now,
                    )
                    .values(status="released", released_at=now)
                    .execution_options(synchronize_session=False)
                ).rowcount
                if not done:
                    continue
                sale = session.get(Sale, sale_id)
                session.refresh(sale)
                ledger.post(
                    kind="release",
                    key=f"release:{sale.id}",
                    reference=sale.reference,
                    currency=sale.currency,
                    lines=[
                        (
                            ledger.get_account(
                                "seller_pending", sale.seller_org_id, sale.currency
                            ),
                            -sale.seller_cents,
                        ),
                        (
                            ledger.get_account(
                                "seller_available", sale.seller_org_id, sale.currency
                            ),
                            sale.seller_cents,
                        ),
                    ],
                )
                released += 1
