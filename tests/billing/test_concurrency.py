"""Threads racing on one wallet: the database settles the race, never the code's own reads.

Runs on SQLite (one writer at a time, waiting on the busy timeout) and, with
TEST_DATABASE_URL, on PostgreSQL (the conditional UPDATE re-checks the committed balance).
"""

import threading
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.db import transaction, utcnow
from app.extensions import db
from billing import ledger, queries, services
from billing.errors import InsufficientFunds
from billing.models import Sale, StripeCustomer
from tests.billing.helpers import fund_wallet, make_org

THREADS = 12
PRICE = 700
WALLET = 5_000  # room for 7 of the 12 purchases


def test_concurrent_purchases_never_take_a_wallet_below_zero(app):
    buyer, seller = make_org("buyer"), make_org("seller")
    fund_wallet(buyer, WALLET)
    db.session.commit()
    start = threading.Barrier(THREADS)
    outcomes: list[str] = []
    lock = threading.Lock()

    def purchase():
        # A fresh app context is a fresh session (and connection) per thread.
        with app.app_context():
            start.wait()
            try:
                services.charge_purchase(
                    buyer_org_id=buyer,
                    seller_org_id=seller,
                    amount_cents=PRICE,
                    reference="race",
                    idempotency_key=f"race:{uuid.uuid4().hex}",
                    release_after=utcnow() + timedelta(days=7),
                )
                result = "sold"
            except InsufficientFunds:
                result = "refused"
            except Exception as exc:  # noqa: BLE001 - reported below, never swallowed
                result = f"error: {exc!r}"
            finally:
                db.session.remove()
            with lock:
                outcomes.append(result)

    threads = [threading.Thread(target=purchase) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert set(outcomes) <= {"refused", "sold"}, outcomes
    sold = outcomes.count("sold")
    assert sold == WALLET // PRICE
    assert outcomes.count("refused") == THREADS - sold
    db.session.expire_all()
    assert queries.get_wallet_balance(buyer) == WALLET - sold * PRICE >= 0
    assert db.session.scalar(select(func.count()).select_from(Sale)) == sold
    assert ledger.check() == []


def test_concurrent_same_key_purchases_charge_once(app):
    buyer, seller = make_org("buyer"), make_org("seller")
    fund_wallet(buyer, WALLET)
    db.session.commit()
    start = threading.Barrier(6)
    ids: list = []

    def purchase():
        with app.app_context():
            start.wait()
            try:
                sale = services.charge_purchase(
                    buyer_org_id=buyer,
                    seller_org_id=seller,
                    amount_cents=PRICE,
                    reference="twice",
                    idempotency_key="one-purchase",
                    release_after=utcnow() + timedelta(days=7),
                )
                ids.append(sale.id)
            except Exception as exc:  # noqa: BLE001
                ids.append(repr(exc))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=purchase) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(set(ids)) == 1 and isinstance(ids[0], int), ids
    db.session.expire_all()
    assert queries.get_wallet_balance(buyer) == WALLET - PRICE
    assert ledger.check() == []


def race(app, fn, threads: int = 8) -> list:
    """Run ``fn`` in ``threads`` threads at once, each in its own app context and session."""
    start = threading.Barrier(threads)
    outcomes: list = []
    lock = threading.Lock()

    def run():
        with app.app_context():
            start.wait()
            try:
                result = fn()
            except Exception as exc:  # noqa: BLE001 - reported below, never swallowed
                result = f"error: {exc!r}"
            finally:
                db.session.remove()
            with lock:
                outcomes.append(result)

    workers = [threading.Thread(target=run) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    return outcomes


def test_first_requests_at_once_create_one_ledger_account_each(app):
    """Accounts are made on first need; two first needs at once make one, and neither fails."""
    buyer = make_org("buyer")
    db.session.commit()

    def first_need():
        with transaction():
            return ledger.get_account("buyer_wallet", buyer).id

    ids = race(app, first_need)
    assert len(set(ids)) == 1 and isinstance(ids[0], int), ids


def test_first_auto_recharge_settings_at_once_never_fail(app):
    """The setting row is made on first save: INSERT ... ON CONFLICT DO NOTHING, then update."""
    buyer = make_org("buyer")
    db.session.commit()

    def first_setting():
        services.set_auto_recharge(
            buyer_org_id=buyer, is_enabled=False, threshold_cents=1_000, amount_cents=5_000
        )
        return "saved"

    assert race(app, first_setting) == ["saved"] * 8


def test_first_payout_details_at_once_never_fail(app):
    seller = make_org("seller")
    db.session.commit()

    def first_details():
        services.save_payout_details(seller_org_id=seller, details="IBAN DE00 1234")
        return "saved"

    assert race(app, first_details) == ["saved"] * 8


@pytest.mark.stripe
def test_first_card_setups_at_once_share_one_stripe_customer_row(app, stripe_server):
    buyer = make_org("buyer")
    db.session.commit()

    def first_setup():
        return services.create_card_setup(buyer_org_id=buyer)["client_secret"][:5]

    assert race(app, first_setup, threads=4) == ["seti_"] * 4
    db.session.expire_all()
    customers = db.session.scalars(select(StripeCustomer)).all()
    assert [c.organization_id for c in customers] == [buyer]
