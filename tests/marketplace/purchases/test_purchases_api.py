"""POST /api/v1/purchases and the buyer's reads: what is sold, charged and answered."""

import pytest
from sqlalchemy import func, select, update

from app.db import transaction
from app.extensions import db
from billing import ledger
from billing import queries as billing_queries
from billing.models import Sale
from marketplace.models import Lead
from marketplace.purchases.errors import LeadUnavailable
from marketplace.purchases.models import PurchasedLead
from marketplace.services import purchase_leads
from tests.billing.helpers import fund_wallet
from tests.helpers import assert_forbidden, make_user
from tests.marketplace.listings.market import list_leads
from tests.marketplace.purchases.helpers import listed_leads
from tests.verification.flow import upload


def buy(client, headers, **body):
    return client.post("/api/v1/purchases", json=body, headers=headers)


def test_purchase_by_ids_sells_charges_and_answers_full_leads(client, buyer, seller, admin, auth):
    leads = listed_leads(seller, admin, 3, price_cents=1200)
    fund_wallet(buyer.organization_id, 10_000)
    ids = [lead.id for lead in leads[:2]]
    response = buy(client, auth(buyer), lead_ids=ids, expected_total_cents=2400)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["status"] == "completed" and body["total_cents"] == 2400
    assert body["currency"] == "usd" and body["skipped_lead_ids"] == []
    assert [item["lead_id"] for item in body["items"]] == ids
    item = body["items"][0]
    assert item["price_cents"] == 1200 and item["return_deadline"]
    assert item["lead"]["contact"]["email"] == leads[0].email
    assert item["lead"]["sales_remaining"] == 0
    db.session.expire_all()
    assert billing_queries.get_wallet_balance(buyer.organization_id) == 10_000 - 2400
    sales = db.session.scalars(select(Sale).order_by(Sale.id)).all()
    assert [s.reference for s in sales] == [
        f"purchase:{body['id']}:lead:{lead_id}" for lead_id in ids
    ]
    rows = db.session.scalars(select(PurchasedLead).order_by(PurchasedLead.lead_id)).all()
    assert [r.sale_id for r in rows] == [s.id for s in sales]
    assert all(s.release_after == r.return_deadline for s, r in zip(sales, rows, strict=True))
    assert ledger.check() == []

    assert (
        client.get("/api/v1/purchases", headers=auth(buyer)).get_json()["items"][0]["id"]
        == (body["id"])
    )
    again = client.get(f"/api/v1/purchases/{body['id']}", headers=auth(buyer)).get_json()
    assert again["total_cents"] == 2400 and len(again["items"]) == 2


def test_purchase_errors_buy_nothing(client, buyer, seller, admin, auth):
    leads = listed_leads(seller, admin, 3, price_cents=1000)
    fund_wallet(buyer.organization_id, 1_500)
    headers = auth(buyer)
    ids = [lead.id for lead in leads]

    low = buy(client, headers, lead_ids=ids[:2])
    assert low.status_code == 402
    assert low.get_json()["error"]["code"] == "insufficient_funds"
    assert low.get_json()["error"]["details"] == {"required_cents": 2000, "balance_cents": 1500}

    moved = buy(client, headers, lead_ids=ids[:1], expected_total_cents=999)
    assert moved.status_code == 409 and moved.get_json()["error"]["code"] == "price_changed"

    assert buy(client, headers, lead_ids=[ids[0], ids[0]]).status_code == 422
    missing = buy(client, headers, lead_ids=[ids[0], 999_999])
    assert missing.status_code == 404
    assert missing.get_json()["error"]["details"] == {"lead_ids": [999_999]}

    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(PurchasedLead)) == 0
    assert sum(lead.sales_count for lead in db.session.scalars(select(Lead))) == 0
    assert billing_queries.get_wallet_balance(buyer.organization_id) == 1_500

    assert buy(client, headers, lead_ids=ids[:1]).status_code == 201
    twice = buy(client, headers, lead_ids=ids[:1])
    assert twice.status_code == 409 and twice.get_json()["error"]["code"] == "already_purchased"

    other = make_user("buyer")
    fund_wallet(other.organization_id, 5_000)
    gone = buy(client, auth(other), lead_ids=ids[:2])
    assert gone.status_code == 409
    assert gone.get_json()["error"] == {
        "code": "lead_unavailable",
        "message": gone.get_json()["error"]["message"],
        "details": {"lead_ids": [ids[0]]},
    }
    partial = buy(client, auth(other), lead_ids=ids[:2], allow_partial=True)
    assert partial.status_code == 201
    assert partial.get_json()["skipped_lead_ids"] == [ids[0]]
    assert [item["lead_id"] for item in partial.get_json()["items"]] == [ids[1]]
    db.session.expire_all()
    assert ledger.check() == []


def test_shared_lead_sells_to_max_sales_buyers_once_each(client, seller, admin, auth):
    (lead,) = listed_leads(seller, admin, 1, max_sales=2, price_cents=700)
    buyers = [make_user("buyer") for _ in range(3)]
    for b in buyers:
        fund_wallet(b.organization_id, 1_000)
    codes = [buy(client, auth(b), lead_ids=[lead.id]).status_code for b in buyers]
    assert codes == [201, 201, 409]
    db.session.expire_all()
    assert db.session.get(Lead, lead.id).sales_count == 2


def test_purchase_by_filter_takes_the_newest_matches(client, buyer, seller, admin, auth):
    cheap = listed_leads(seller, admin, 3, price_cents=500)
    listed_leads(seller, admin, 2, price_cents=5000)
    fund_wallet(buyer.organization_id, 10_000)
    headers = auth(buyer)
    too_many = buy(
        client, headers, filter={"vertical": "solar", "max_price_cents": 600}, quantity=4
    )
    assert too_many.status_code == 409
    assert too_many.get_json()["error"]["code"] == "not_enough_leads"
    assert too_many.get_json()["error"]["details"] == {"available": 3}
    moved = buy(
        client, headers, filter={"max_price_cents": 600}, quantity=2, expected_total_cents=999
    )
    assert moved.status_code == 409 and moved.get_json()["error"]["code"] == "price_changed"
    response = buy(
        client, headers, filter={"max_price_cents": 600}, quantity=2, expected_total_cents=1000
    )
    assert response.status_code == 201
    got = sorted(item["lead_id"] for item in response.get_json()["items"])
    assert got == sorted(lead.id for lead in cheap)[-2:]
    partial = buy(client, headers, filter={"max_price_cents": 600}, quantity=5, allow_partial=True)
    assert partial.status_code == 201 and len(partial.get_json()["items"]) == 1
    assert buy(client, headers, filter={"colour": "red"}, quantity=1).status_code == 422
    assert buy(client, headers, filter={"vertical": "solar"}).status_code == 422


def test_same_idempotency_key_buys_once(client, buyer, seller, admin, auth):
    leads = listed_leads(seller, admin, 2)
    fund_wallet(buyer.organization_id, 10_000)
    headers = {**auth(buyer), "Idempotency-Key": "buy-1"}
    first = buy(client, headers, lead_ids=[leads[0].id])
    second = buy(client, headers, lead_ids=[leads[0].id])
    assert first.status_code == second.status_code == 201
    assert first.get_json() == second.get_json()
    reused = buy(client, headers, lead_ids=[leads[1].id])
    assert reused.status_code == 409
    db.session.expire_all()
    assert billing_queries.get_wallet_balance(buyer.organization_id) == 10_000 - 1500


def test_service_is_idempotent_by_key_without_the_header(buyer, seller, admin):
    leads = listed_leads(seller, admin, 1)
    fund_wallet(buyer.organization_id, 10_000)
    first = purchase_leads(buyer=buyer, lead_ids=[leads[0].id], idempotency_key="k")
    second = purchase_leads(buyer=buyer, lead_ids=[leads[0].id], idempotency_key="k")
    assert first.id == second.id
    assert billing_queries.get_wallet_balance(buyer.organization_id) == 10_000 - 1500


def test_only_buyers_buy_and_purchases_are_private(client, buyer, seller, admin, auth):
    leads = listed_leads(seller, admin, 1)
    fund_wallet(buyer.organization_id, 10_000)
    assert_forbidden(buy(client, auth(seller), lead_ids=[leads[0].id]))
    purchase_id = buy(client, auth(buyer), lead_ids=[leads[0].id]).get_json()["id"]
    other = make_user("buyer")
    assert client.get(f"/api/v1/purchases/{purchase_id}", headers=auth(other)).status_code == 404
    assert (
        client.get(f"/api/v1/purchases/{purchase_id}/export.csv", headers=auth(other)).status_code
        == 404
    )
    assert client.get("/api/v1/purchased-leads", headers=auth(other)).get_json()["items"] == []


def test_never_listed_is_404_and_paused_or_own_is_unavailable(client, buyer, seller, admin, auth):
    fund_wallet(buyer.organization_id, 10_000)
    waiting = upload(seller, 3)  # in its spot-check: never on sale
    pending_id = db.session.scalars(select(Lead.id).where(Lead.batch_id == waiting.id)).first()
    assert buy(client, auth(buyer), lead_ids=[pending_id]).status_code == 404

    paused, own = listed_leads(seller, admin, 2)
    paused.is_paused = True
    db.session.commit()
    answer = buy(client, auth(buyer), lead_ids=[paused.id])
    assert answer.status_code == 409
    assert answer.get_json()["error"]["details"] == {"lead_ids": [paused.id]}
    # The seller's own organisation never buys its lead, whoever calls the service.
    fund_wallet(seller.organization_id, 10_000)
    with pytest.raises(LeadUnavailable) as raised:
        purchase_leads(buyer=seller, lead_ids=[own.id])
    assert raised.value.details == {"lead_ids": [own.id]}
    db.session.expire_all()
    assert db.session.get(Lead, own.id).sales_count == 0


def test_a_buyer_sees_the_full_lead_it_bought_and_no_other(client, buyer, seller, admin, auth):
    """After the sale the exclusive lead is off the market: 404 to other buyers, full to its
    buyer (listings' can_see_full knows purchases)."""
    lead, other = listed_leads(seller, admin, 2, price_cents=700)
    fund_wallet(buyer.organization_id, 5_000)
    assert buy(client, auth(buyer), lead_ids=[lead.id]).status_code == 201
    mine = client.get(f"/api/v1/leads/{lead.id}", headers=auth(buyer))
    assert mine.status_code == 200
    assert mine.get_json()["contact"]["email"] == lead.email
    stranger = make_user("buyer")
    assert client.get(f"/api/v1/leads/{lead.id}", headers=auth(stranger)).status_code == 404
    masked = client.get(f"/api/v1/leads/{other.id}", headers=auth(buyer)).get_json()
    assert "contact" not in masked and masked["preview"]["email"] != other.email


def test_a_filter_purchase_takes_the_markets_filter_keys(client, buyer, seller, admin, auth):
    leads = listed_leads(seller, admin, 2, price_cents=500)
    fund_wallet(buyer.organization_id, 5_000)
    headers = auth(buyer)
    country = leads[0].country
    nowhere = buy(client, headers, filter={"country": "ZZ" if country != "ZZ" else "US"},
                  quantity=1)  # fmt: skip
    assert nowhere.status_code == 409
    assert nowhere.get_json()["error"]["details"] == {"available": 0}
    response = buy(client, headers, filter={"country": country, "exclusive": True}, quantity=2)
    assert response.status_code == 201, response.get_json()
    assert sorted(i["lead_id"] for i in response.get_json()["items"]) == [
        lead.id for lead in leads
    ]
    bad = buy(client, headers, filter={"stage": "SQL"}, quantity=1)  # a list in JSON
    assert bad.status_code == 422


def test_a_filter_purchase_takes_its_matches_in_the_sort_asked(client, buyer, seller, auth):
    cheap, dear = list_leads(seller, {}, {}, price_cents=1500)
    with transaction():
        db.session.execute(update(Lead).where(Lead.id == cheap.id).values(price_cents=900))
    fund_wallet(buyer.organization_id, 10_000)
    assert dear.id > cheap.id  # of one batch, listed at once: the newest is the later id
    newest = buy(client, auth(buyer), filter={}, quantity=1)  # newest first by default
    assert [item["lead_id"] for item in newest.get_json()["items"]] == [dear.id]
    (lead,) = list_leads(seller, {}, price_cents=2000)  # now the newest, and the dearest
    cheapest = buy(client, auth(buyer), filter={}, quantity=1, sort="price")
    assert cheapest.status_code == 201, cheapest.get_json()
    assert [item["lead_id"] for item in cheapest.get_json()["items"]] == [cheap.id]
    assert buy(client, auth(buyer), lead_ids=[lead.id], sort="price").status_code == 422
    assert buy(client, auth(buyer), filter={}, quantity=1, sort="random").status_code == 422
