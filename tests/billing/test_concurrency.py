"""Threads racing on one wallet: the database settles the race, never the code's own reads.

Runs on SQLite (one writer at a time, waiting on the busy timeout) and, with
TEST_DATABASE_URL, on PostgreSQL (the conditional UPDATE re-checks the committed balance).
"""

import threading
import uuid
from datetime import timedelta

from sqlalchemy import func, select

from app.db import utcnow
from app.extensions import db
from billing import ledger, queries, services
from billing.errors import InsufficientFunds
from billing.models import Sale
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
    assert queries.wallet_balance(buyer) == WALLET - sold * PRICE >= 0
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
    assert queries.wallet_balance(buyer) == WALLET - PRICE
    assert ledger.check() == []
