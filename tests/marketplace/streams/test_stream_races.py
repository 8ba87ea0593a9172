"""Live leads raced for by their posts, auto-buy runs and manual purchases at once, on SQLite
and (with TEST_DATABASE_URL) PostgreSQL."""

from __future__ import annotations

import threading
import time

from sqlalchemy import select

from app.auth.models import User
from app.errors import AppError
from app.extensions import db
from marketplace.autobuy import services as autobuy
from marketplace.autobuy.models import OrderHold, SavedSearch
from marketplace.models import Lead
from marketplace.purchases.models import PurchasedLead
from marketplace.services import purchase_leads
from marketplace.streams.models import Stream
from tests.billing.helpers import fund_wallet
from tests.helpers import make_user, race
from tests.marketplace.purchases.helpers import assert_books_agree
from tests.marketplace.streams.helpers import (
    clear_screening,
    open_stream,
    ping,
    seed_where_next,
    standing_order,
)
from tests.verification.flow import rows

POSTS = 8
PINGED = 3
PRICE = 1000


def unsold_leads(batch_id: int) -> list[int]:
    return list(
        db.session.scalars(
            select(Lead.id).where(
                Lead.batch_id == batch_id, Lead.status == "listed", Lead.sales_count == 0
            )
        )
    )


def test_an_exclusive_live_lead_is_never_sold_twice_while_posts_auto_buy_and_buyers_race(
    app, client, auth, seller, admin, small_plan
):
    """Each post sells its lead in the request (to the order its ping held, else by the
    fairness rule), while two auto-buy runs and three buyers keep taking whatever listed lead
    they see. Every lead goes to exactly one buyer, each sale is counted by exactly one of
    them, the orders stay within their caps, the holds all end and the ledger balances."""
    order_users = [make_user("buyer") for _ in range(2)]
    orders = []
    for user in order_users:
        fund_wallet(user.organization_id, 100_000)
        orders.append(standing_order(client, auth, user, daily_cap=5))
    manual_users = [make_user("buyer") for _ in range(3)]
    for user in manual_users:
        fund_wallet(user.organization_id, 100_000)
    stream_id = open_stream(client, auth, seller, price_cents=PRICE)["id"]
    clear_screening(client, auth, seller, admin, stream_id, small_plan["i"])
    db.session.expire_all()
    batch_id = db.session.get(Stream, stream_id).batch_id
    # Sampling now: none of the raced posts is drawn for inspection, so each is sold or listed.
    first = small_plan["i"] + 1
    seed_where_next(app, stream_id, first, small_plan["f"], drawn=False, count=POSTS)
    leads = rows(POSTS)
    pings = [ping(client, auth, seller, stream_id, lead).get_json() for lead in leads[:PINGED]]
    assert all(p["would_sell"] for p in pings), pings
    header = auth(seller)
    waiting = {"posts": POSTS}
    lock, all_posted = threading.Lock(), threading.Event()

    def posting(lead, ping_id):
        def job():
            try:
                with app.test_client() as c:
                    extra = {"ping_id": ping_id} if ping_id else {}
                    r = c.post(
                        f"/api/v1/streams/{stream_id}/leads", json=lead | extra, headers=header
                    )
                    return r.status_code, r.get_json()
            finally:
                with lock:
                    waiting["posts"] -= 1
                    if not waiting["posts"]:
                        all_posted.set()

        return job

    def until_posted(step):
        """Run ``step()`` until every post has answered, then once more."""
        deadline = time.monotonic() + 60
        while not all_posted.wait(timeout=0.005) and time.monotonic() < deadline:
            step()
        step()

    def auto_buying():
        bought = []
        until_posted(lambda: bought.append(autobuy.match_new_leads(unsold_leads(batch_id))))
        return sum(bought)

    def buying(user_id):
        def job():
            got = []

            def step():
                wanted = unsold_leads(batch_id)
                db.session.rollback()  # a fresh read next time
                if not wanted:
                    return
                try:
                    purchase = purchase_leads(
                        buyer=db.session.get(User, user_id), lead_ids=wanted, allow_partial=True
                    )
                    got.extend(item.lead_id for item in purchase.items)
                except AppError:  # every one of them sold meanwhile
                    pass

            until_posted(step)
            return got

        return job

    ids = [p["ping_id"] for p in pings] + [None] * (POSTS - PINGED)
    jobs = [posting(lead, ping_id) for lead, ping_id in zip(leads, ids, strict=True)]
    jobs += [auto_buying, auto_buying] + [buying(u.id) for u in manual_users]
    outcomes = race(app, jobs)

    answers, runs, manual = outcomes[:POSTS], outcomes[POSTS : POSTS + 2], outcomes[POSTS + 2 :]
    assert all(code == 201 and body["status"] in ("sold", "listed") for code, body in answers), (
        answers
    )
    assert all(isinstance(n, int) for n in runs), runs
    assert all(isinstance(got, list) for got in manual), manual
    db.session.expire_all()
    lead_ids = {body["lead_id"] for _, body in answers}
    sold = list(
        db.session.scalars(select(PurchasedLead).where(PurchasedLead.lead_id.in_(lead_ids)))
    )
    # Every live lead sold, each to one buyer only.
    assert sorted(r.lead_id for r in sold) == sorted(lead_ids)
    for lead_id in lead_ids:
        assert db.session.get(Lead, lead_id).sales_count == 1
    # Each sale was made by exactly one of the racers, as each of them reports it.
    by_posts = sum(body["sales"] for _, body in answers)
    assert all(body["sales"] in (0, 1) for _, body in answers)
    by_manual = [lead_id for got in manual for lead_id in got]
    assert len(by_manual) == len(set(by_manual))
    assert by_posts + sum(runs) + len(by_manual) == len(sold)
    manual_orgs = {u.organization_id for u in manual_users}
    assert sorted(by_manual) == sorted(r.lead_id for r in sold if r.buyer_org_id in manual_orgs)
    # The orders stayed within their caps (three leads went to them while screening cleared),
    # and every ping's hold was claimed or released.
    for user, placed in zip(order_users, orders, strict=True):
        search = db.session.get(SavedSearch, placed["id"])
        theirs = db.session.scalars(
            select(PurchasedLead).where(PurchasedLead.buyer_org_id == user.organization_id)
        ).all()
        assert search.bought_on_day == len(theirs) <= 5
        assert search.spent_cents == PRICE * len(theirs)
    assert all(hold.ended_at is not None for hold in db.session.scalars(select(OrderHold)))
    assert_books_agree(order_users + manual_users)
