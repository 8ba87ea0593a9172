"""lock_accounts_for_purchase: the accounts of a purchase, made on first need and locked."""

from sqlalchemy import select

from app.db import transaction
from app.extensions import db
from billing import services
from billing.models import LedgerAccount
from tests.billing.helpers import make_org


def test_locking_a_purchases_accounts_makes_the_missing_ones_once():
    buyer, seller_a, seller_b = make_org("buyer"), make_org("seller"), make_org("seller")
    for _ in range(2):
        with transaction():
            services.lock_accounts_for_purchase(
                buyer_org_id=buyer, seller_org_ids=[seller_b, seller_a, seller_b]
            )
    codes = sorted(db.session.scalars(select(LedgerAccount.code)))
    assert codes == sorted(
        [
            f"buyer_wallet:{buyer}:usd",
            f"seller_pending:{seller_a}:usd",
            f"seller_pending:{seller_b}:usd",
            "platform_revenue:usd",
        ]
    )
