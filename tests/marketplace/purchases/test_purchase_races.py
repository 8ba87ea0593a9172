"""Buyers racing for the same leads, on SQLite and (with TEST_DATABASE_URL) PostgreSQL.

Each thread has its own app context, session and connection. Whatever the interleaving: no
lead is sold past its max_sales, each wallet pays once per lead its organisation got and for
nothing else, no purchase deadlocks, and the ledger checks clean.
"""

from sqlalchemy import func, select

from app.auth.models import User
from app.extensions import db
from marketplace.models import Lead
from marketplace.purchases.models import PurchasedLead
from marketplace.services import purchase_leads
from tests.billing.helpers import fund_wallet
from tests.helpers import make_user, race
from tests.marketplace.purchases.helpers import assert_books_agree, listed_leads

BUYERS = 8
WALLET = 100_000


def buying(user_id: int, lead_ids: list[int], **kwargs):
    def job():
        buyer = db.session.get(User, user_id)
        purchase = purchase_leads(buyer=buyer, lead_ids=lead_ids, **kwargs)
        return sorted(item.lead_id for item in purchase.items)

    return job


def buyers(count: int, cents: int = WALLET) -> list[User]:
    made = [make_user("buyer") for _ in range(count)]
    for user in made:
        fund_wallet(user.organization_id, cents)
    db.session.commit()
    return made


def test_buyers_racing_for_exclusive_leads_never_get_one_lead_twice(app, admin):
    seller = make_user("seller")
    leads = [lead.id for lead in listed_leads(seller, admin, 6, price_cents=900)]
    racers = buyers(BUYERS)
    # Overlapping picks; allow_partial so every buyer takes whatever is left of its own.
    picks = [leads[i % 3 : i % 3 + 4] for i in range(BUYERS)]
    outcomes = race(
        app,
        [buying(b.id, pick, allow_partial=True) for b, pick in zip(racers, picks, strict=True)],
    )
    assert all(isinstance(o, list) or o == "lead_unavailable" for o in outcomes), outcomes
    got = [lead_id for o in outcomes if isinstance(o, list) for lead_id in o]
    assert len(got) == len(set(got))  # an exclusive lead went to one buyer only
    assert set(got) == set(leads[: max(i % 3 + 4 for i in range(BUYERS))])
    assert_books_agree(racers)


def test_all_or_nothing_buyers_of_shared_leads_stop_at_max_sales(app, admin):
    seller = make_user("seller")
    leads = [lead.id for lead in listed_leads(seller, admin, 4, max_sales=3, price_cents=700)]
    racers = buyers(BUYERS)
    outcomes = race(app, [buying(b.id, leads) for b in racers])
    assert sorted(map(str, outcomes)).count(str(leads)) == 3, outcomes
    assert outcomes.count("lead_unavailable") == BUYERS - 3, outcomes
    db.session.expire_all()
    assert [db.session.get(Lead, i).sales_count for i in leads] == [3, 3, 3, 3]
    assert_books_agree(racers)


def test_multi_seller_purchases_in_opposite_orders_never_deadlock(app, admin):
    """Half the buyers charge seller A then seller B, half B then A (leads go in id order), each
    its own leads, so only the ledger accounts are shared: without one lock order for them,
    PostgreSQL finds a deadlock."""
    seller_a, seller_b = make_user("seller"), make_user("seller")
    a_low = listed_leads(seller_a, admin, BUYERS)
    b_mid = listed_leads(seller_b, admin, BUYERS)
    a_high = listed_leads(seller_a, admin, BUYERS)
    racers = buyers(BUYERS)
    jobs = [
        buying(b.id, [a_low[i].id, b_mid[i].id] if i % 2 else [b_mid[i].id, a_high[i].id])
        for i, b in enumerate(racers)
    ]
    outcomes = race(app, jobs)
    assert all(isinstance(o, list) and len(o) == 2 for o in outcomes), outcomes
    assert_books_agree(racers)


def test_buyers_with_too_little_money_get_nothing_and_pay_nothing(app, admin):
    seller = make_user("seller")
    leads = [
        lead.id for lead in listed_leads(seller, admin, 3, max_sales=BUYERS, price_cents=1000)
    ]
    rich, poor = buyers(BUYERS // 2), buyers(BUYERS // 2, cents=2_500)
    outcomes = race(app, [buying(b.id, leads) for b in rich + poor])
    assert outcomes == [leads] * len(rich) + ["insufficient_funds"] * len(poor), outcomes
    assert_books_agree(rich)
    assert_books_agree(poor, funded=2_500)
    assert db.session.scalar(select(func.count()).select_from(PurchasedLead)) == 3 * len(rich)


def test_one_buyer_racing_itself_gets_a_shared_lead_once(app, admin):
    seller = make_user("seller")
    (lead,) = listed_leads(seller, admin, 1, max_sales=3, price_cents=800)
    (racer,) = buyers(1)
    outcomes = race(app, [buying(racer.id, [lead.id]) for _ in range(4)])
    assert sorted(map(str, outcomes)) == [str([lead.id])] + ["already_purchased"] * 3, outcomes
    assert_books_agree([racer])


def test_same_key_purchases_at_once_buy_once(app, admin):
    seller = make_user("seller")
    leads = [lead.id for lead in listed_leads(seller, admin, 2)]
    (racer,) = buyers(1)
    racer_id = racer.id  # read here: the main session's objects stay out of the threads

    def job():
        buyer = db.session.get(User, racer_id)
        return purchase_leads(buyer=buyer, lead_ids=leads, idempotency_key="once").id

    outcomes = race(app, [job] * 4)
    assert len(set(outcomes)) == 1 and isinstance(outcomes[0], int), outcomes
    assert_books_agree([racer])


def test_filter_buyers_racing_for_a_small_pool_share_it_out(app, admin):
    """Matches read before another purchase took them are replaced by the next ones."""
    seller = make_user("seller")
    pool = {lead.id for lead in listed_leads(seller, admin, 6, price_cents=600)}
    racers = buyers(BUYERS)

    def filtering(user_id):
        def job():
            buyer = db.session.get(User, user_id)
            purchase = purchase_leads(buyer=buyer, filter={"vertical": "solar"}, quantity=2)
            return sorted(item.lead_id for item in purchase.items)

        return job

    outcomes = race(app, [filtering(b.id) for b in racers])
    bought = [o for o in outcomes if isinstance(o, list)]
    assert len(bought) == 3 and outcomes.count("not_enough_leads") == BUYERS - 3, outcomes
    assert sorted(i for o in bought for i in o) == sorted(pool)
    assert_books_agree(racers)
