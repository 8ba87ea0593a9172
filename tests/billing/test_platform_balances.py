"""The platform's accounts have no cached balance: their balance is the sum of their entries,
so a purchase never updates (nor waits on) one row that every purchase shares."""

import pytest
from sqlalchemy import create_engine, func, select, text

from app.db import transaction
from app.extensions import db
from billing import ledger, queries, services
from billing.models import LedgerAccount, LedgerEntry
from tests.billing.helpers import fund_wallet, make_org, sell


def column_and_sum(code: str) -> tuple[int, int]:
    account = db.session.scalar(select(LedgerAccount).where(LedgerAccount.code == code))
    db.session.refresh(account)
    total = db.session.scalar(
        select(func.coalesce(func.sum(LedgerEntry.amount_cents), 0)).where(
            LedgerEntry.account_id == account.id
        )
    )
    return account.balance_cents, int(total)


def test_platform_balances_read_the_same_as_the_sum_of_their_entries_and_the_books_balance():
    buyers = [make_org("buyer") for _ in range(2)]
    sellers = [make_org("seller") for _ in range(2)]
    for buyer in buyers:
        fund_wallet(buyer, 10_000)
    sales = [
        sell(buyer, seller, cents)
        for buyer, seller, cents in (
            (buyers[0], sellers[0], 1999),
            (buyers[0], sellers[1], 2500),
            (buyers[1], sellers[0], 1000),
        )
    ]
    services.reverse_sale(sale_id=sales[1].id)
    fees = sales[0].fee_cents + sales[2].fee_cents  # the reversed sale gave its fee back

    assert ledger.balance_of("platform_revenue") == fees == 400 + 200
    assert ledger.balance_of("stripe_clearing") == -20_000
    totals = queries.get_platform_totals()
    assert totals["platform_revenue_cents"] == fees
    assert totals["received_by_card_cents"] == 20_000
    # What the platform holds is what left the wallets less what sellers are owed.
    wallets = sum(queries.get_wallet_balance(buyer) for buyer in buyers)
    pending = sum(queries.get_earnings(seller)["pending_cents"] for seller in sellers)
    assert 20_000 - wallets == pending + fees
    # The rows themselves are never updated: no lock is taken on them.
    assert column_and_sum("platform_revenue:usd") == (0, fees)
    assert column_and_sum("stripe_clearing:usd") == (0, -20_000)
    assert ledger.check() == []


def test_check_reports_a_platform_row_given_a_cached_balance_and_a_negative_revenue(runner):
    buyer, seller = make_org("buyer"), make_org("seller")
    fund_wallet(buyer, 1000)
    sell(buyer, seller, 1000)
    assert runner.invoke(args=["billing", "check"]).exit_code == 0
    with db.engine.begin() as conn:
        conn.execute(
            text("UPDATE ledger_accounts SET balance_cents = 200 WHERE kind = 'platform_revenue'")
        )
    assert [(p.kind, p.expected, p.found) for p in ledger.check()] == [("cached_balance", 0, 200)]
    with db.engine.begin() as conn:
        conn.execute(
            text("UPDATE ledger_accounts SET balance_cents = 0 WHERE kind = 'platform_revenue'")
        )
        conn.execute(
            text(
                "UPDATE ledger_entries SET amount_cents = -5 WHERE account_id = "
                "(SELECT id FROM ledger_accounts WHERE kind = 'platform_revenue')"
            )
        )
    kinds = {p.kind for p in ledger.check()}
    assert "negative_balance" in kinds
    assert runner.invoke(args=["billing", "check"]).exit_code == 1


def test_an_open_purchase_does_not_hold_the_platform_revenue_row(app):
    """While one purchase's transaction is open (its accounts locked, its sale posted), another
    connection can take the lock an UPDATE of platform revenue's balance would take (its
    entries' foreign key only shares the row): purchases do not queue on it."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("row locks: PostgreSQL (SQLite has one writer at a time)")
    buyer, seller = make_org("buyer"), make_org("seller")
    fund_wallet(buyer, 5000)
    sell(buyer, seller, 1000)  # the accounts exist
    other = create_engine(db.engine.url)
    try:
        with transaction():
            services.lock_accounts_for_purchase(buyer_org_id=buyer, seller_org_ids=[seller])
            sell(buyer, seller, 1500)
            with other.connect() as conn:
                conn.execute(text("SET lock_timeout = '1s'"))
                locked = conn.execute(
                    text(
                        "SELECT id FROM ledger_accounts WHERE kind = 'platform_revenue' "
                        "FOR NO KEY UPDATE NOWAIT"
                    )
                ).all()
                conn.rollback()
        assert len(locked) == 1
    finally:
        other.dispose()
    assert ledger.balance_of("platform_revenue") == 200 + 300
    assert ledger.check() == []
