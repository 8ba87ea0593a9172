"""The ledger and the sale services, without Stripe: splits, reversals, releases, payouts."""

from datetime import timedelta

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.exc import IntegrityError

from app.db import transaction, utcnow
from app.errors import Conflict, Invalid
from app.extensions import db
from app.settings import get_settings
from billing import ledger, queries, services
from billing.errors import IdempotencyKeyReused, InsufficientFunds
from billing.ledger import platform_fee_cents
from billing.models import LedgerAccount, LedgerEntry, LedgerTransaction, Sale
from tests.billing.helpers import fund_wallet, make_org, sell


@pytest.fixture
def orgs():
    return make_org("buyer"), make_org("seller")


@pytest.mark.parametrize(
    ("amount", "bps", "fee"),
    [
        (1000, 2000, 200),
        (1, 2000, 0),  # 0.2 cent rounds down
        (3, 2000, 1),  # 0.6 cent rounds up
        (5, 1000, 1),  # exactly half a cent: half up, to the platform
        (25, 2000, 5),
        (1999, 2000, 400),  # 399.8
        (12345, 1250, 1543),  # 1543.125
        (7, 0, 0),
        (7, 10000, 7),
    ],
)
def test_fee_is_rounded_half_up_and_seller_gets_exactly_the_rest(amount, bps, fee):
    assert platform_fee_cents(amount, bps) == fee
    assert (amount - platform_fee_cents(amount, bps)) + platform_fee_cents(amount, bps) == amount


def test_every_cent_of_every_price_is_split_without_loss():
    for bps in (0, 1, 333, 2000, 2500, 9999, 10000):
        for amount in range(1, 2001):
            fee = platform_fee_cents(amount, bps)
            assert 0 <= fee <= amount
            assert abs(fee * 10000 - amount * bps) <= 5000  # never more than half a cent off


def test_sale_moves_wallet_to_seller_pending_and_platform_fee(orgs):
    buyer, seller = orgs
    fund_wallet(buyer, 5000)
    sale = sell(buyer, seller, 1999)
    assert (sale.fee_cents, sale.seller_cents) == (400, 1599)
    assert queries.get_wallet_balance(buyer) == 5000 - 1999
    assert queries.get_earnings(seller)["pending_cents"] == 1599
    assert ledger.balance_of("platform_revenue") == 400
    entries = db.session.scalars(
        select(LedgerEntry).join(LedgerEntry.transaction).where(LedgerTransaction.kind == "sale")
    ).all()
    assert sorted(e.amount_cents for e in entries) == [-1999, 400, 1599]
    assert ledger.check() == []


def test_sale_uses_the_admin_fee_setting(orgs):
    buyer, seller = orgs
    fund_wallet(buyer, 5000)
    with transaction():
        get_settings().platform_fee_bps = 1500
    sale = sell(buyer, seller, 1000)
    assert (sale.fee_bps, sale.fee_cents, sale.seller_cents) == (1500, 150, 850)


def test_sale_beyond_the_wallet_is_402_and_moves_nothing(orgs):
    buyer, seller = orgs
    fund_wallet(buyer, 1000)
    with pytest.raises(InsufficientFunds) as raised:
        sell(buyer, seller, 1001)
    assert raised.value.status_code == 402
    assert raised.value.code == "insufficient_funds"
    assert raised.value.details == {"required_cents": 1001, "balance_cents": 1000}
    assert queries.get_wallet_balance(buyer) == 1000
    assert db.session.scalar(select(Sale.id)) is None
    assert ledger.check() == []


def test_same_sale_key_charges_once_and_another_sale_under_it_is_409(orgs):
    buyer, seller = orgs
    fund_wallet(buyer, 5000)
    first = sell(buyer, seller, 1000, key="purchase-1/lead-1")
    again = sell(buyer, seller, 1000, key="purchase-1/lead-1")
    assert again.id == first.id
    assert queries.get_wallet_balance(buyer) == 4000
    with pytest.raises(IdempotencyKeyReused):
        sell(buyer, seller, 999, key="purchase-1/lead-1")


def test_bad_sale_amounts_are_refused(orgs):
    buyer, seller = orgs
    fund_wallet(buyer, 5000)
    for amount in (0, -5, 10.5, "100", True, 10**15, None):
        with pytest.raises(Invalid):
            sell(buyer, seller, amount)
    with pytest.raises(Invalid):
        sell(buyer, buyer, 100)
    assert queries.get_wallet_balance(buyer) == 5000


def test_reverse_sale_is_the_exact_reverse_once(orgs):
    buyer, seller = orgs
    fund_wallet(buyer, 5000)
    sale = sell(buyer, seller, 1234)
    services.reverse_sale(sale_id=sale.id, reference="dispute 9")
    again = services.reverse_sale(sale_id=sale.id, reference="dispute 9")
    assert again.status == "reversed"
    assert queries.get_wallet_balance(buyer) == 5000
    assert queries.get_earnings(seller)["pending_cents"] == 0
    assert ledger.balance_of("platform_revenue") == 0
    reversals = db.session.scalars(
        select(LedgerTransaction).where(LedgerTransaction.kind == "sale_reversal")
    ).all()
    assert len(reversals) == 1
    assert sorted(e.amount_cents for e in reversals[0].entries) == [-987, -247, 1234]
    assert ledger.check() == []


def test_release_waits_for_the_window_and_skips_held_sales(orgs):
    buyer, seller = orgs
    fund_wallet(buyer, 10_000)
    due = sell(buyer, seller, 1000, days=7)
    held = sell(buyer, seller, 2000, days=7)
    later = sell(buyer, seller, 3000, days=30)
    services.set_sale_hold(sale_id=held.id, is_held=True, reason="dispute 4 open")
    assert services.release_earnings(now=utcnow() + timedelta(days=6)) == 0
    assert services.release_earnings(now=utcnow() + timedelta(days=8)) == 1
    assert services.release_earnings(now=utcnow() + timedelta(days=8)) == 0
    figures = queries.get_earnings(seller)
    assert figures["available_cents"] == 800
    assert figures["pending_cents"] == 1600 + 2400
    assert db.session.get(Sale, due.id).status == "released"
    assert db.session.get(Sale, later.id).status == "pending"
    # The held sale's dispute is accepted: its money is still in pending.
    services.reverse_sale(sale_id=held.id, reference="dispute 4 accepted")
    assert queries.get_earnings(seller)["pending_cents"] == 2400
    services.set_sale_hold(sale_id=later.id, is_held=False)
    assert services.release_earnings(now=utcnow() + timedelta(days=31)) == 1
    assert queries.get_earnings(seller)["available_cents"] == 800 + 2400
    assert ledger.check() == []


def test_a_released_sale_cannot_be_reversed(orgs):
    buyer, seller = orgs
    fund_wallet(buyer, 1000)
    sale = sell(buyer, seller, 1000, days=0)
    services.release_earnings(now=utcnow() + timedelta(seconds=1))
    with pytest.raises(Conflict) as raised:
        services.reverse_sale(sale_id=sale.id)
    assert raised.value.code == "sale_released"
    # Nor held: a dispute racing the release is refused instead of holding money that left.
    with pytest.raises(Conflict) as raised:
        services.set_sale_hold(sale_id=sale.id, is_held=True, reason="late dispute")
    assert raised.value.code == "sale_released"
    assert db.session.get(Sale, sale.id).is_held is False
    assert queries.get_wallet_balance(buyer) == 0


def test_payout_reserves_then_moves_available_to_paid_out(orgs, admin):
    buyer, seller = orgs
    fund_wallet(buyer, 10_000)
    sell(buyer, seller, 10_000, days=0)
    services.release_earnings(now=utcnow() + timedelta(seconds=1))
    with pytest.raises(Invalid) as raised:
        services.request_payout(seller_org_id=seller, amount_cents=100)
    assert raised.value.code == "payout_details_missing"
    services.save_payout_details(seller_org_id=seller, details="IBAN DE89 3704 0044 0532 0130 00")
    payout = services.request_payout(seller_org_id=seller, amount_cents=5000, idempotency_key="a")
    assert (
        services.request_payout(seller_org_id=seller, amount_cents=5000, idempotency_key="a").id
        == payout.id
    )
    figures = queries.get_earnings(seller)
    assert (figures["available_cents"], figures["requested_cents"]) == (3000, 5000)
    with pytest.raises(Invalid) as raised:
        services.request_payout(seller_org_id=seller, amount_cents=3001)
    assert raised.value.code == "amount_exceeds_available"
    rest = services.request_payout(seller_org_id=seller)  # everything available
    assert rest.amount_cents == 3000
    services.mark_payout_paid(payout_id=payout.id, reference="TRF-1", actor=admin)
    assert services.mark_payout_paid(payout_id=payout.id, reference="TRF-1").status == "paid"
    with pytest.raises(Conflict):
        services.mark_payout_paid(payout_id=payout.id, reference="TRF-2")
    figures = queries.get_earnings(seller)
    assert figures == {
        "pending_cents": 0,
        "available_cents": 0,
        "requested_cents": 3000,
        "paid_out_cents": 5000,
        "currency": "usd",
    }
    assert ledger.check() == []


def test_the_database_refuses_a_negative_wallet_even_without_the_service(orgs):
    buyer, _ = orgs
    fund_wallet(buyer, 100)
    wallet = ledger.find_account("buyer_wallet", buyer)
    with pytest.raises(IntegrityError), transaction() as session:
        session.execute(
            update(LedgerAccount).where(LedgerAccount.id == wallet.id).values(balance_cents=-1)
        )
    assert queries.get_wallet_balance(buyer) == 100


def test_a_journal_that_does_not_balance_is_never_written(orgs):
    buyer, _ = orgs
    with pytest.raises(ValueError), transaction():
        ledger.post(
            kind="top_up",
            key="x",
            reference="x",
            lines=[
                (ledger.get_account("stripe_clearing"), -100),
                (ledger.get_account("buyer_wallet", buyer), 99),
            ],
        )
    assert db.session.scalar(select(LedgerTransaction.id)) is None


def test_check_finds_a_cached_balance_that_differs_from_its_entries(orgs, runner):
    buyer, _ = orgs
    fund_wallet(buyer, 700)
    assert runner.invoke(args=["billing", "check"]).exit_code == 0
    with db.engine.begin() as conn:
        conn.execute(
            text("UPDATE ledger_accounts SET balance_cents = 701 WHERE kind = 'buyer_wallet'")
        )
    problems = ledger.check()
    assert [p.kind for p in problems] == ["cached_balance"]
    result = runner.invoke(args=["billing", "check"])
    assert result.exit_code == 1
    assert "expected 700, found 701" in result.output


def test_release_command_releases_due_sales(orgs, runner):
    buyer, seller = orgs
    fund_wallet(buyer, 1000)
    sell(buyer, seller, 1000, days=-1)
    result = runner.invoke(args=["billing", "release"])
    assert result.exit_code == 0, result.output
    assert "released 1 sale" in result.output
    assert queries.get_earnings(seller)["available_cents"] == 800


def test_release_task_is_scheduled_and_runs(app, orgs):
    from billing.tasks import release_earnings

    assert app.extensions["celery"].conf.beat_schedule["release-earnings"]["task"] == (
        "billing.release_earnings"
    )
    buyer, seller = orgs
    fund_wallet(buyer, 1000)
    sell(buyer, seller, 1000, days=-1)
    assert release_earnings.delay().get() == 1
    assert queries.get_earnings(seller)["available_cents"] == 800
