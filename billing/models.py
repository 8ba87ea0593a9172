"""Money tables: the double-entry ledger, sales, top-ups, refunds, payouts, Stripe state."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import UTCDateTime, utcnow
from app.extensions import db

CURRENCY = "usd"

# Accounts that belong to one organisation (the API shows them with it) and the platform's own.
ORGANIZATION_ACCOUNTS = ("buyer_wallet", "seller_pending", "seller_available", "seller_paid_out")
PLATFORM_ACCOUNTS = ("platform_revenue", "stripe_clearing", "refunds")
ACCOUNT_KINDS = ORGANIZATION_ACCOUNTS + PLATFORM_ACCOUNTS
# The platform's accounts keep no cached balance: every sale would update one row (platform
# revenue), every top-up another (Stripe clearing), and each holds that row's lock until its
# transaction commits, so purchases would queue on it one at a time. Their balance is the sum
# of their entries (``ledger.balance_of``); their ``balance_cents`` stays 0.
UNCACHED_ACCOUNTS = PLATFORM_ACCOUNTS
# Stripe clearing is the counter-account of the money that came in by card: its balance is minus
# what Stripe holds for us, so it is the one account allowed below zero.
SIGNED_ACCOUNTS = ("stripe_clearing",)
TRANSACTION_KINDS = ("top_up", "sale", "sale_reversal", "release", "payout", "refund")

SALE_STATUSES = ("pending", "released", "reversed")
TOP_UP_STATUSES = ("pending", "succeeded", "failed")
TOP_UP_TRIGGERS = ("manual", "auto_recharge")
REFUND_STATUSES = ("pending", "succeeded", "partially_failed", "failed")
REFUND_PART_STATUSES = ("pending", "succeeded", "failed")
PAYOUT_STATUSES = ("requested", "paid")


def _in(column: str, values) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class LedgerAccount(db.Model):
    """One account of the ledger, with its balance cached from its entries (organisations'
    accounts; the platform's are UNCACHED_ACCOUNTS, their balance the sum of their entries).

    ``balance_cents`` changes only with an entry, in the same database transaction, through a
    conditional UPDATE (see ledger.py); the CHECK constraints hold even if code forgets that.
    ``reserved_cents`` is the part of a seller's available earnings promised to payouts that
    are requested and not yet paid.
    """

    __tablename__ = "ledger_accounts"
    __table_args__ = (
        CheckConstraint(_in("kind", ACCOUNT_KINDS), name="kind"),
        CheckConstraint(
            f"balance_cents >= 0 OR {_in('kind', SIGNED_ACCOUNTS)}", name="balance_not_negative"
        ),
        CheckConstraint(
            "reserved_cents >= 0 AND (reserved_cents = 0 OR reserved_cents <= balance_cents)",
            name="reserved_in_range",
        ),
        CheckConstraint(
            f"(organization_id IS NULL) = ({_in('kind', PLATFORM_ACCOUNTS)})", name="owner"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # kind:organisation:currency, unique: platform accounts have no organisation, and NULLs
    # are never equal in a unique constraint.
    code: Mapped[str] = mapped_column(String(80), unique=True)
    kind: Mapped[str] = mapped_column(String(24))
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"), index=True)
    currency: Mapped[str] = mapped_column(String(3), default=CURRENCY)
    balance_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    reserved_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LedgerTransaction(db.Model):
    """A journal: entries that sum to zero. ``key`` makes each movement happen once."""

    __tablename__ = "ledger_transactions"
    __table_args__ = (CheckConstraint(_in("kind", TRANSACTION_KINDS), name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    key: Mapped[str] = mapped_column(String(120), unique=True)
    reference: Mapped[str] = mapped_column(String(200))
    currency: Mapped[str] = mapped_column(String(3), default=CURRENCY)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    entries: Mapped[list[LedgerEntry]] = relationship(
        back_populates="transaction", order_by="LedgerEntry.id"
    )


class LedgerEntry(db.Model):
    """A signed amount on one account: positive raises that account's balance."""

    __tablename__ = "ledger_entries"
    __table_args__ = (
        CheckConstraint("amount_cents <> 0", name="amount_not_zero"),
        Index("ix_ledger_entries_account_id_id", "account_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    transaction_id: Mapped[int] = mapped_column(ForeignKey("ledger_transactions.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("ledger_accounts.id"))
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    transaction: Mapped[LedgerTransaction] = relationship(back_populates="entries")
    account: Mapped[LedgerAccount] = relationship(lazy="joined")


class Sale(db.Model):
    """One charge of a buyer's wallet for a seller, held in pending until it is released.

    ``release_after`` (the end of the return window) comes from the caller; ``is_held`` is set
    while a dispute is open, so a reversal always finds the seller's share still in pending.
    """

    __tablename__ = "sales"
    __table_args__ = (
        CheckConstraint(_in("status", SALE_STATUSES), name="status"),
        CheckConstraint("amount_cents > 0", name="amount_positive"),
        CheckConstraint(
            "fee_cents >= 0 AND seller_cents >= 0 AND fee_cents + seller_cents = amount_cents",
            name="split",
        ),
        Index("ix_sales_due", "status", "release_after"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    reference: Mapped[str] = mapped_column(String(200))
    buyer_org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    seller_org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    fee_bps: Mapped[int] = mapped_column(Integer)
    fee_cents: Mapped[int] = mapped_column(BigInteger)
    seller_cents: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3), default=CURRENCY)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    is_held: Mapped[bool] = mapped_column(default=False)
    hold_reason: Mapped[str | None] = mapped_column(Text)
    release_after: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reversed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reversal_reference: Mapped[str | None] = mapped_column(String(200))


class StripeCustomer(db.Model):
    """The one Stripe Customer of a buyer organisation, created on first need."""

    __tablename__ = "billing_customers"

    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), primary_key=True)
    stripe_customer_id: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PaymentMethod(db.Model):
    """A card attached to the organisation's Stripe Customer (only what a page may show)."""

    __tablename__ = "payment_methods"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    stripe_payment_method_id: Mapped[str] = mapped_column(String(64), unique=True)
    brand: Mapped[str] = mapped_column(String(32), default="card")
    last4: Mapped[str] = mapped_column(String(4), default="")
    exp_month: Mapped[int | None] = mapped_column(Integer)
    exp_year: Mapped[int | None] = mapped_column(Integer)
    is_default: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TopUp(db.Model):
    """Money in by card: a Stripe PaymentIntent that credits the wallet once when it succeeds."""

    __tablename__ = "top_ups"
    __table_args__ = (
        UniqueConstraint("organization_id", "idempotency_key"),
        CheckConstraint(_in("status", TOP_UP_STATUSES), name="status"),
        CheckConstraint(_in("trigger", TOP_UP_TRIGGERS), name="trigger"),
        CheckConstraint("amount_cents > 0", name="amount_positive"),
        CheckConstraint(
            "refunded_cents >= 0 AND refunded_cents <= amount_cents", name="refunded_in_range"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    # NULL once a request is known never to have reached Stripe: the client may reuse the key.
    idempotency_key: Mapped[str | None] = mapped_column(String(255))
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3), default=CURRENCY)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    trigger: Mapped[str] = mapped_column(String(16), default="manual")
    payment_method_id: Mapped[str | None] = mapped_column(String(64))
    card_label: Mapped[str | None] = mapped_column(String(64))
    stripe_payment_intent_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    stripe_charge_id: Mapped[str | None] = mapped_column(String(64))
    failure_code: Mapped[str | None] = mapped_column(String(64))
    failure_message: Mapped[str | None] = mapped_column(Text)
    refunded_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class WalletRefund(db.Model):
    """Unspent wallet money back to the card, split over top-ups newest first."""

    __tablename__ = "wallet_refunds"
    __table_args__ = (
        UniqueConstraint("organization_id", "idempotency_key"),
        CheckConstraint(_in("status", REFUND_STATUSES), name="status"),
        CheckConstraint("amount_cents > 0", name="amount_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(255))
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3), default=CURRENCY)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    # "buyer": asked for here; "stripe": made outside Leadex and learnt from a webhook.
    source: Mapped[str] = mapped_column(String(16), default="buyer")
    # A refund made outside Leadex that the wallet could not cover (already spent).
    uncovered_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    parts: Mapped[list[RefundPart]] = relationship(
        back_populates="refund", order_by="RefundPart.id"
    )


class RefundPart(db.Model):
    """The share of a wallet refund taken from one top-up: one Stripe Refund."""

    __tablename__ = "refund_parts"
    __table_args__ = (
        CheckConstraint(_in("status", REFUND_PART_STATUSES), name="status"),
        CheckConstraint("amount_cents > 0", name="amount_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    refund_id: Mapped[int] = mapped_column(ForeignKey("wallet_refunds.id"), index=True)
    top_up_id: Mapped[int] = mapped_column(ForeignKey("top_ups.id"), index=True)
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    stripe_refund_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    failure_message: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    refund: Mapped[WalletRefund] = relationship(back_populates="parts")
    top_up: Mapped[TopUp] = relationship()


class AutoRecharge(db.Model):
    """A buyer's auto-recharge: when the wallet drops under the threshold, charge the card."""

    __tablename__ = "auto_recharges"

    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), primary_key=True)
    is_enabled: Mapped[bool] = mapped_column(default=False)
    threshold_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    amount_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    # Set while one recharge is queued or running, so a trigger charges once.
    is_running: Mapped[bool] = mapped_column(default=False)
    trigger_count: Mapped[int] = mapped_column(Integer, default=0)
    last_triggered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    disabled_reason: Mapped[str | None] = mapped_column(Text)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=utcnow)


class PayoutDetails(db.Model):
    """Where a seller is paid, as free text for the manual payout provider."""

    __tablename__ = "payout_details"

    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), primary_key=True)
    details: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Payout(db.Model):
    """Available earnings paid to a seller; reserved when requested, moved when paid."""

    __tablename__ = "payouts"
    __table_args__ = (
        UniqueConstraint("organization_id", "idempotency_key"),
        CheckConstraint(_in("status", PAYOUT_STATUSES), name="status"),
        CheckConstraint("amount_cents > 0", name="amount_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(255))
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3), default=CURRENCY)
    status: Mapped[str] = mapped_column(String(16), default="requested", index=True)
    provider: Mapped[str] = mapped_column(String(32), default="manual")
    destination: Mapped[str] = mapped_column(Text)
    reference: Mapped[str | None] = mapped_column(String(200))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    paid_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class StripeEvent(db.Model):
    """A webhook event, stored by its id: the primary key makes processing happen once."""

    __tablename__ = "stripe_events"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    type: Mapped[str] = mapped_column(String(100))
    object_id: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(32))
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
