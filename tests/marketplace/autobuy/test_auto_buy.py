"""Auto-buy: standing orders buy newly listed matching leads, fairly, within their caps."""

from sqlalchemy import func, select

from app.db import transaction
from app.extensions import db
from billing import ledger
from billing import queries as billing_queries
from billing.signals import auto_recharge_failed
from marketplace.autobuy import services as autobuy
from marketplace.autobuy.models import AutobuyRun, SavedSearch
from marketplace.models import Lead
from marketplace.purchases.models import Purchase, PurchasedLead
from tests.billing.helpers import fund_wallet
from tests.helpers import make_user, race
from tests.marketplace.purchases.helpers import listed_leads


def order(client, auth, buyer, *, filter=None, **auto_buy):
    body = {
        "name": "auto",
        "filter": filter or {"vertical": "solar"},
        "auto_buy": {"max_price_cents": 5000, "daily_cap": 100, "budget_cents": 100_000}
        | auto_buy,
    }
    response = client.post("/api/v1/saved-searches", json=body, headers=auth(buyer))
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def bought_by(org_id) -> list[int]:
    db.session.expire_all()
    return sorted(
        db.session.scalars(
            select(PurchasedLead.lead_id).where(PurchasedLead.buyer_org_id == org_id)
        )
    )


def test_a_listed_batch_is_bought_within_the_caps(client, buyer, seller, admin, auth):
    fund_wallet(buyer.organization_id, 100_000)
    capped = order(client, auth, buyer, daily_cap=2)
    leads = listed_leads(seller, admin, 4, price_cents=1000)
    ids = [lead.id for lead in leads]
    assert bought_by(buyer.organization_id) == ids[:2]
    body = client.get(f"/api/v1/saved-searches/{capped['id']}", headers=auth(buyer)).get_json()
    assert body["auto_buy"]["bought_today"] == 2 and body["auto_buy"]["spent_cents"] == 2000
    keys = set(db.session.scalars(select(Purchase.idempotency_key)))
    assert keys == {f"autobuy:{capped['id']}:lead:{lead_id}" for lead_id in ids[:2]}
    assert db.session.get(AutobuyRun, leads[0].batch_id) is not None
    # The run is once per batch: running it again buys nothing more.
    assert autobuy.run_batch(leads[0].batch_id) == 0


def test_budget_and_max_price(client, buyer, seller, admin, auth):
    fund_wallet(buyer.organization_id, 100_000)
    order(client, auth, buyer, budget_cents=2500)
    ids = [lead.id for lead in listed_leads(seller, admin, 4, price_cents=1000)]
    assert bought_by(buyer.organization_id) == ids[:2]  # a third would pass the budget

    other = make_user("buyer")
    fund_wallet(other.organization_id, 100_000)
    order(client, auth, other, max_price_cents=1499)
    listed_leads(seller, admin, 2, price_cents=1500)
    assert bought_by(other.organization_id) == []
    cheap = [lead.id for lead in listed_leads(seller, admin, 2, price_cents=1499)]
    assert bought_by(other.organization_id) == cheap


def test_filters_apply_and_unmatched_leads_stay(client, buyer, seller, admin, auth):
    fund_wallet(buyer.organization_id, 100_000)
    order(client, auth, buyer, filter={"vertical": "roofing"})
    listed_leads(seller, admin, 2)
    assert bought_by(buyer.organization_id) == []


def test_competing_orders_take_turns_oldest_first(client, seller, admin, auth):
    buyers = [make_user("buyer") for _ in range(3)]
    for b in buyers:
        fund_wallet(b.organization_id, 100_000)
    orders = [order(client, auth, b) for b in buyers]  # created oldest first
    ids = [lead.id for lead in listed_leads(seller, admin, 2)]  # fewer leads than orders
    # Oldest order gets the first lead, the next the second; the youngest waits its turn.
    assert bought_by(buyers[0].organization_id) == [ids[0]]
    assert bought_by(buyers[1].organization_id) == [ids[1]]
    assert bought_by(buyers[2].organization_id) == []
    # Next batch: the order never served goes first, then the least recently served.
    more = [lead.id for lead in listed_leads(seller, admin, 2)]
    assert bought_by(buyers[2].organization_id) == [more[0]]
    assert bought_by(buyers[0].organization_id) == [ids[0], more[1]]
    assert bought_by(buyers[1].organization_id) == [ids[1]]
    assert len(orders) == 3


def test_a_wallet_too_low_pauses_and_the_buyer_resumes(client, buyer, seller, admin, auth):
    fund_wallet(buyer.organization_id, 1500)
    search = order(client, auth, buyer)
    ids = [lead.id for lead in listed_leads(seller, admin, 3, price_cents=1000)]
    assert bought_by(buyer.organization_id) == ids[:1]
    url = f"/api/v1/saved-searches/{search['id']}"
    auto_buy = client.get(url, headers=auth(buyer)).get_json()["auto_buy"]
    assert auto_buy["status"] == "paused"
    assert auto_buy["paused_reason"].startswith("insufficient_funds")
    assert billing_queries.get_wallet_balance(buyer.organization_id) == 500

    fund_wallet(buyer.organization_id, 10_000)
    resumed = client.put(
        url,
        json={
            "name": "auto",
            "filter": {"vertical": "solar"},
            "auto_buy": {
                "max_price_cents": 5000,
                "daily_cap": 100,
                "budget_cents": 100_000,
                "status": "active",
            },
        },
        headers=auth(buyer),
    ).get_json()
    assert resumed["auto_buy"]["status"] == "active"
    assert resumed["auto_buy"]["paused_reason"] is None
    assert resumed["auto_buy"]["spent_cents"] == 1000
    new = [lead.id for lead in listed_leads(seller, admin, 1, price_cents=1000)]
    assert bought_by(buyer.organization_id) == ids[:1] + new


def test_auto_recharge_failed_pauses_with_the_reason(client, buyer, auth):
    search = order(client, auth, buyer)
    with transaction():  # billing sends it inside its transaction
        auto_recharge_failed.send(
            "billing", organization_id=buyer.organization_id, reason="card_declined", top_up_id=1
        )
    body = client.get(f"/api/v1/saved-searches/{search['id']}", headers=auth(buyer)).get_json()
    assert body["auto_buy"]["status"] == "paused"
    assert "card_declined" in body["auto_buy"]["paused_reason"]


def test_the_sweep_runs_missed_batches(client, buyer, seller, admin, auth, monkeypatch):
    from marketplace.autobuy import tasks

    fund_wallet(buyer.organization_id, 100_000)
    leads = listed_leads(seller, admin, 2)  # listed before any order: nothing bought
    order(client, auth, buyer)
    with transaction():
        db.session.query(AutobuyRun).delete()  # as if the queued run was lost
    monkeypatch.setattr(tasks, "SWEEP_GRACE", tasks.SWEEP_WINDOW * 0)
    assert tasks.autobuy_sweep() == 1
    assert bought_by(buyer.organization_id) == [lead.id for lead in leads]
    assert tasks.autobuy_sweep() == 0
    assert db.session.scalar(select(func.count()).select_from(SavedSearch)) == 1


def test_two_runs_at_once_over_the_same_leads_stay_within_every_cap(
    app, client, seller, admin, auth
):
    """A lost task's sweep and the task itself (or two workers) offering the same new leads at
    once: each order's caps and budget hold, no lead is sold past its limit, money adds up."""
    leads = listed_leads(seller, admin, 6, price_cents=1000, max_sales=2)
    buyers = [make_user("buyer") for _ in range(3)]
    orders = []
    for number, user in enumerate(buyers):
        fund_wallet(user.organization_id, 100_000)
        orders.append(order(client, auth, user, daily_cap=3, budget_cents=2500 + number * 1000))
    ids = [lead.id for lead in leads]
    outcomes = race(app, [lambda: autobuy.match_new_leads(ids) for _ in range(3)])
    assert all(isinstance(n, int) for n in outcomes), outcomes
    db.session.expire_all()
    for user, placed in zip(buyers, orders, strict=True):
        got = bought_by(user.organization_id)
        search = db.session.get(SavedSearch, placed["id"])
        cap = min(3, placed["auto_buy"]["budget_cents"] // 1000)
        assert len(got) == cap == search.bought_on_day, (got, cap)
        assert search.spent_cents == 1000 * len(got)
        assert billing_queries.get_wallet_balance(user.organization_id) == 100_000 - 1000 * len(
            got
        )
    for lead in db.session.scalars(select(Lead).where(Lead.id.in_(ids))):
        sold = db.session.scalar(select(func.count()).where(PurchasedLead.lead_id == lead.id))
        assert lead.sales_count == sold <= lead.max_sales
    assert sum(outcomes) == sum(len(bought_by(u.organization_id)) for u in buyers)
    assert ledger.check() == []
