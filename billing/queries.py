"""Reads of billing: balances, earnings, lists as selects (paged by the caller), one-object gets
that are 404 for another organisation's ids."""

from __future__ import annotations

from sqlalchemy import func, select

from app.auth.models import Organization
from app.errors import NotFound
from app.extensions import db
from billing import ledger
from billing.models import (
    AutoRecharge,
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
    PaymentMethod,
    Payout,
    PayoutDetails,
    Sale,
    StripeCustomer,
    TopUp,
    WalletRefund,
)


def decimal_amount(cents: int) -> str:
    """Cents as a decimal string ("1234.50"), by integer arithmetic."""
    sign = "-" if cents < 0 else ""
    cents = abs(cents)
    return f"{sign}{cents // 100}.{cents % 100:02d}"


def get_wallet_balance(buyer_org_id: int) -> int:
    """The buyer's wallet in cents (the market shows it and checks it before a purchase)."""
    return ledger.balance_of("buyer_wallet", buyer_org_id)


def get_wallet(buyer_org_id: int) -> dict:
    setting = get_auto_recharge(buyer_org_id)
    return {
        "balance_cents": get_wallet_balance(buyer_org_id),
        "currency": "usd",
        "auto_recharge": {
            "enabled": bool(setting and setting.is_enabled),
            "threshold_cents": setting.threshold_cents if setting else 0,
            "amount_cents": setting.amount_cents if setting else 0,
            "disabled_reason": setting.disabled_reason if setting else None,
            "disabled_at": setting.disabled_at if setting else None,
        },
    }


def get_refundable_cents(buyer_org_id: int) -> int:
    """What may go back to cards: the wallet, and never more than the top-ups paid in."""
    paid_in = db.session.scalar(
        select(func.coalesce(func.sum(TopUp.amount_cents - TopUp.refunded_cents), 0)).where(
            TopUp.organization_id == buyer_org_id, TopUp.status == "succeeded"
        )
    )
    return max(0, min(int(paid_in), ledger.balance_of("buyer_wallet", buyer_org_id)))


def get_auto_recharge(buyer_org_id: int) -> AutoRecharge | None:
    return db.session.get(AutoRecharge, buyer_org_id)


def get_earnings(seller_org_id: int) -> dict:
    """Pending (inside the return window), available (free to pay out), requested (promised to
    payouts not yet paid) and paid out, in cents."""
    available = ledger.find_account("seller_available", seller_org_id)
    if available is not None:
        db.session.refresh(available)
    reserved = available.reserved_cents if available else 0
    return {
        "pending_cents": ledger.balance_of("seller_pending", seller_org_id),
        "available_cents": (available.balance_cents if available else 0) - reserved,
        "requested_cents": reserved,
        "paid_out_cents": ledger.balance_of("seller_paid_out", seller_org_id),
        "currency": "usd",
    }


def get_platform_totals() -> dict:
    return {
        "platform_revenue_cents": ledger.balance_of("platform_revenue"),
        "received_by_card_cents": -ledger.balance_of("stripe_clearing"),
        "refunded_to_cards_cents": ledger.balance_of("refunds"),
        "wallets_cents": _sum_of_kind("buyer_wallet"),
        "seller_pending_cents": _sum_of_kind("seller_pending"),
        "seller_available_cents": _sum_of_kind("seller_available"),
        "seller_paid_out_cents": _sum_of_kind("seller_paid_out"),
        "payouts_requested_cents": int(
            db.session.scalar(
                select(func.coalesce(func.sum(Payout.amount_cents), 0)).where(
                    Payout.status == "requested"
                )
            )
        ),
        "currency": "usd",
    }


def _sum_of_kind(kind: str) -> int:
    return int(
        db.session.scalar(
            select(func.coalesce(func.sum(LedgerAccount.balance_cents), 0)).where(
                LedgerAccount.kind == kind
            )
        )
    )


def list_entries(
    *, organization_id: int | None = None, account: str | None = None, kind: str | None = None
):
    """Ledger entries with their account and journal; one organisation's own accounts, or all
    (admins) when ``organization_id`` is None."""
    stmt = select(LedgerEntry).join(LedgerEntry.account).join(LedgerEntry.transaction)
    if organization_id is not None:
        stmt = stmt.where(LedgerAccount.organization_id == organization_id)
    if account:
        stmt = stmt.where(LedgerAccount.kind == account)
    if kind:
        stmt = stmt.where(LedgerTransaction.kind == kind)
    return stmt


def describe_entry(entry: LedgerEntry) -> dict:
    return {
        "id": entry.id,
        "transaction_id": entry.transaction_id,
        "account": entry.account.kind,
        "organization_id": entry.account.organization_id,
        "amount_cents": entry.amount_cents,
        "currency": entry.account.currency,
        "kind": entry.transaction.kind,
        "reference": entry.transaction.reference,
        "created_at": entry.created_at,
    }


def list_payment_methods(buyer_org_id: int):
    return (
        select(PaymentMethod)
        .where(PaymentMethod.organization_id == buyer_org_id)
        .order_by(PaymentMethod.is_default.desc(), PaymentMethod.id.desc())
    )


def get_payment_method_for(*, buyer_org_id: int, payment_method_id: str) -> PaymentMethod:
    """One of the organisation's own cards; 404 for an unknown id or another's card."""
    row = db.session.scalar(
        select(PaymentMethod).where(
            PaymentMethod.stripe_payment_method_id == payment_method_id,
            PaymentMethod.organization_id == buyer_org_id,
        )
    )
    if row is None:
        raise NotFound("No such card.")
    return row


def get_default_payment_method(buyer_org_id: int) -> PaymentMethod | None:
    return db.session.scalar(
        select(PaymentMethod).where(
            PaymentMethod.organization_id == buyer_org_id, PaymentMethod.is_default.is_(True)
        )
    )


def get_stripe_customer_id(buyer_org_id: int) -> str | None:
    row = db.session.get(StripeCustomer, buyer_org_id)
    return row.stripe_customer_id if row else None


def list_top_ups(buyer_org_id: int, *, status: str | None = None):
    stmt = select(TopUp).where(TopUp.organization_id == buyer_org_id)
    if status:
        stmt = stmt.where(TopUp.status == status)
    return stmt


def get_top_up_for(*, buyer_org_id: int, top_up_id: int) -> TopUp:
    top_up = db.session.get(TopUp, top_up_id)
    if top_up is None or top_up.organization_id != buyer_org_id:
        raise NotFound("No such top-up.")
    return top_up


def get_top_up_by_key(buyer_org_id: int, idempotency_key: str) -> TopUp | None:
    return db.session.scalar(
        select(TopUp).where(
            TopUp.organization_id == buyer_org_id, TopUp.idempotency_key == idempotency_key
        )
    )


def list_refunds(buyer_org_id: int):
    return select(WalletRefund).where(WalletRefund.organization_id == buyer_org_id)


def get_refund_for(*, buyer_org_id: int, refund_id: int) -> WalletRefund:
    refund = db.session.get(WalletRefund, refund_id)
    if refund is None or refund.organization_id != buyer_org_id:
        raise NotFound("No such refund.")
    return refund


def list_payouts(*, seller_org_id: int | None = None, status: str | None = None):
    stmt = select(Payout)
    if seller_org_id is not None:
        stmt = stmt.where(Payout.organization_id == seller_org_id)
    if status:
        stmt = stmt.where(Payout.status == status)
    return stmt


def list_payouts_with_seller_names(status: str):
    """(payout, seller organisation name) rows of one status for the admin: the requested
    ones oldest first (the queue), the paid ones newest first."""
    order = (Payout.id,) if status == "requested" else (Payout.paid_at.desc(), Payout.id.desc())
    return (
        select(Payout, Organization.name)
        .join(Organization, Organization.id == Payout.organization_id)
        .where(Payout.status == status)
        .order_by(*order)
    )


def count_payouts(*, status: str) -> int:
    return db.session.scalar(
        select(func.count()).select_from(Payout).where(Payout.status == status)
    )


def get_refund_by_key(buyer_org_id: int, idempotency_key: str) -> WalletRefund | None:
    return db.session.scalar(
        select(WalletRefund).where(
            WalletRefund.organization_id == buyer_org_id,
            WalletRefund.idempotency_key == idempotency_key,
        )
    )


def get_payout_for(*, seller_org_id: int, payout_id: int) -> Payout:
    payout = db.session.get(Payout, payout_id)
    if payout is None or payout.organization_id != seller_org_id:
        raise NotFound("No such payout.")
    return payout


def get_payout_details(seller_org_id: int) -> PayoutDetails | None:
    return db.session.get(PayoutDetails, seller_org_id)


def get_payout_by_key(seller_org_id: int, idempotency_key: str) -> Payout | None:
    return db.session.scalar(
        select(Payout).where(
            Payout.organization_id == seller_org_id, Payout.idempotency_key == idempotency_key
        )
    )


def get_sale(sale_id: int) -> Sale:
    sale = db.session.get(Sale, sale_id)
    if sale is None:
        raise NotFound("No such sale.")
    return sale


def get_sale_by_key(idempotency_key: str) -> Sale | None:
    return db.session.scalar(select(Sale).where(Sale.idempotency_key == idempotency_key))


def list_receipts(buyer_org_id: int):
    """Succeeded top-ups and refunds of one buyer, oldest first, for the receipts CSV."""
    top_ups = db.session.scalars(
        select(TopUp)
        .where(TopUp.organization_id == buyer_org_id, TopUp.status == "succeeded")
        .order_by(TopUp.settled_at, TopUp.id)
    )
    for t in top_ups:
        yield (
            (t.settled_at or t.created_at).isoformat(),
            "top-up",
            f"T-{t.id}",
            decimal_amount(t.amount_cents),
            t.currency.upper(),
            t.card_label or "",
            t.stripe_payment_intent_id or "",
        )
    refunds = db.session.scalars(
        select(WalletRefund)
        .where(
            WalletRefund.organization_id == buyer_org_id,
            WalletRefund.status.in_(("succeeded", "partially_failed")),
        )
        .order_by(WalletRefund.created_at, WalletRefund.id)
    )
    for r in refunds:
        refunded = sum(p.amount_cents for p in r.parts if p.status == "succeeded")
        yield (
            (r.completed_at or r.created_at).isoformat(),
            "refund",
            f"R-{r.id}",
            "-" + decimal_amount(refunded),
            r.currency.upper(),
            "",
            " ".join(p.stripe_refund_id or "" for p in r.parts if p.status == "succeeded"),
        )


# --- what the pages show: short lists, loaded ----------------------------------------------------


def get_cards(buyer_org_id: int) -> list[PaymentMethod]:
    """The organisation's cards, the default first."""
    return list(db.session.scalars(list_payment_methods(buyer_org_id)))


def get_recent_top_ups(buyer_org_id: int, *, limit: int) -> list[TopUp]:
    stmt = list_top_ups(buyer_org_id).order_by(TopUp.id.desc()).limit(limit)
    return list(db.session.scalars(stmt))


def get_recent_refunds(buyer_org_id: int, *, limit: int) -> list[WalletRefund]:
    stmt = list_refunds(buyer_org_id).order_by(WalletRefund.id.desc()).limit(limit)
    return list(db.session.scalars(stmt))


def get_recent_payouts(seller_org_id: int, *, limit: int) -> list[Payout]:
    stmt = list_payouts(seller_org_id=seller_org_id).order_by(Payout.id.desc()).limit(limit)
    return list(db.session.scalars(stmt))


def get_payouts_with_seller_names(status: str, *, limit: int | None = None) -> list[tuple]:
    """``list_payouts_with_seller_names`` loaded: (payout, seller name) pairs."""
    return list(db.session.execute(list_payouts_with_seller_names(status).limit(limit)))
