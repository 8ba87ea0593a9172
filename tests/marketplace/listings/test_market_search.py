"""GET /api/v1/leads: every filter narrows to exactly the leads it names, combinably; bad
input is a 422; pages are stable for each sort; a cursor belongs to its sort and filters."""

from datetime import timedelta

import pytest
from marshmallow import ValidationError
from sqlalchemy import update

from app.db import transaction, utcnow
from app.extensions import db
from marketplace import services as market_services
from marketplace.models import SellerAccount
from marketplace.services import load_filter
from tests.helpers import make_user
from tests.marketplace.listings.market import get, ids, list_leads


@pytest.fixture
def market():
    """Four leads of two sellers in two verticals, differing in every filtered property."""
    good, plain = make_user("seller"), make_user("seller")
    two_days = (utcnow() - timedelta(days=2)).replace(microsecond=0).isoformat()
    twenty_days = (utcnow() - timedelta(days=20)).replace(microsecond=0).isoformat()
    sql, lost = list_leads(
        good,
        {"region": "CA", "city": "San Francisco", "postal_code": "94103", "has_budget": "yes",
         "is_decision_maker": "yes", "need": "A new roof", "timeline": "immediate",
         "consent_certificate": "https://cert.trustedform.com/abc123", "captured_at": two_days,
         "consented_at": two_days},
        {"region": "CA", "city": "Oakland", "postal_code": "94107", "timeline": "12+_months",
         "captured_at": two_days, "consented_at": two_days},
        price_cents=1500,
    )  # fmt: skip
    london, trial = list_leads(
        plain,
        {"country": "GB", "region": "England", "city": "London", "postal_code": "SW1A 1AA",
         "phone": "+44 7400 123456", "timeline": "1-3_months", "has_budget": "yes",
         "captured_at": twenty_days, "consented_at": twenty_days},
        {"region": "NY", "city": "New York", "postal_code": "10001", "need": "Lower rate",
         "interest_signals": "free_trial", "captured_at": twenty_days,
         "consented_at": twenty_days},
        vertical="mortgage", price_cents=900, max_sales=3,
    )  # fmt: skip
    with transaction():
        market_services.set_quality_score(seller_id=good.organization_id, score=80)
    with transaction():  # a seller without a published score counts as 0
        db.session.execute(
            update(SellerAccount)
            .where(SellerAccount.organization_id == plain.organization_id)
            .values(quality_score=None)
        )
    db.session.expire_all()
    return {"sql": sql, "lost": lost, "london": london, "trial": trial, "good": good}


def _quality(market, lead) -> int:
    return market_services.seller_account(lead.seller_id).quality_score or 0


FILTERS = [
    ({"vertical": "mortgage"}, lambda m, lead: lead.vertical.slug == "mortgage"),
    ({"country": "gb"}, lambda m, lead: lead.country == "GB"),
    ({"region": "CA"}, lambda m, lead: lead.region == "CA"),
    ({"city": "Oakland"}, lambda m, lead: lead.city == "Oakland"),
    # Region and city match whatever the case and spacing the buyer types.
    ({"region": "ca"}, lambda m, lead: lead.region == "CA"),
    ({"city": "  san   FRANCISCO "}, lambda m, lead: lead.city == "San Francisco"),
    ({"postal_prefix": "941"}, lambda m, lead: lead.postal_code.startswith("941")),
    ({"postal_prefix": "94103"}, lambda m, lead: lead.postal_code == "94103"),
    ({"postal_prefix": "sw1a 1"}, lambda m, lead: lead.country == "GB"),
    ({"stage": "SQL,lost"}, lambda m, lead: lead.stage in ("SQL", "lost")),
    ({"min_score": 40}, lambda m, lead: lead.score >= 40),
    ({"min_bant": 2}, lambda m, lead: lead.bant_met >= 2),
    ({"bant": "budget,need"}, lambda m, lead: lead.bant_budget and lead.bant_need),
    ({"timeline": "immediate,1-3_months"},
     lambda m, lead: lead.timeline in ("immediate", "1-3_months")),
    ({"temperature": "cold"}, lambda m, lead: lead.temperature == "cold"),
    ({"max_price_cents": 1000}, lambda m, lead: lead.price_cents <= 1000),
    ({"max_age_days": 10}, lambda m, lead: lead.captured_at > utcnow() - timedelta(days=10)),
    ({"exclusive": "true"}, lambda m, lead: lead.max_sales == 1),
    ({"exclusive": "false"}, lambda m, lead: lead.max_sales > 1),
    ({"has_consent_certificate": "true"}, lambda m, lead: bool(lead.consent_certificate)),
    ({"has_consent_certificate": "false"}, lambda m, lead: not lead.consent_certificate),
    ({"phone_type": "mobile"}, lambda m, lead: lead.phone_confirmed_mobile),
    ({"phone_type": "fixed_line_or_mobile,voip"},
     lambda m, lead: lead.phone_type in ("fixed_line_or_mobile", "voip")),
    ({"min_seller_quality": 50}, lambda m, lead: _quality(m, lead) >= 50),
    ({"min_seller_quality": 1}, lambda m, lead: _quality(m, lead) >= 1),
    ({"min_seller_quality": 0}, lambda m, lead: True),
]  # fmt: skip


@pytest.mark.parametrize(("params", "matches"), FILTERS, ids=lambda v: str(v)[:40])
def test_each_filter_narrows_to_exactly_the_leads_it_names(
    client, buyer, auth, market, params, matches
):
    leads = [market[key] for key in ("sql", "lost", "london", "trial")]
    expected = {lead.id for lead in leads if matches(market, lead)}
    assert expected, "the data set must have a match for every filter"
    status, body = get(client, auth(buyer), "/api/v1/leads", **params)
    assert status == 200, body
    assert set(ids(body)) == expected
    if params != {"min_seller_quality": 0}:
        assert len(expected) < len(leads), "a filter that keeps everything proves nothing"


def test_filters_combine(client, buyer, auth, market):
    status, body = get(
        client, auth(buyer), "/api/v1/leads", vertical="solar", region="CA", min_bant=3
    )
    assert status == 200 and ids(body) == [market["sql"].id]
    status, body = get(client, auth(buyer), "/api/v1/leads", vertical="solar", country="GB")
    assert status == 200 and ids(body) == []


@pytest.mark.parametrize(
    "params",
    [
        {"colour": "red"},
        {"min_score": "high"},
        {"min_score": 101},
        {"min_bant": 5},
        {"stage": "SQL,hot"},
        {"bant": "money"},
        {"timeline": "soon"},
        {"temperature": ""},
        {"exclusive": "perhaps"},
        {"phone_type": "pigeon"},
        {"sort": "random"},
        {"limit": 501},
        {"vertical": "no-such-vertical"},
        {"country": "USA"},
    ],
    ids=str,
)
def test_unknown_parameters_and_bad_values_are_422(client, buyer, auth, market, params):
    status, body = get(client, auth(buyer), "/api/v1/leads", **params)
    assert status == 422, body
    assert set(body["error"]) == {"code", "message", "details"}


def test_the_market_needs_a_signed_in_account(client):
    assert client.get("/api/v1/leads").status_code == 401


def _all_pages(client, headers, **params):
    seen, cursor = [], None
    while True:
        query = {**params, "limit": 1, **({"cursor": cursor} if cursor else {})}
        status, body = get(client, headers, "/api/v1/leads", **query)
        assert status == 200, body
        seen.extend(body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            return seen


@pytest.mark.parametrize(
    ("sort", "key"),
    [
        ("newest", lambda item: (item["listed_at"], item["id"])),
        ("score", lambda item: (item["qualification"]["score"], item["id"])),
        ("price", lambda item: (-item["price_cents"], -item["id"])),
    ],
)
def test_pages_are_stable_and_ordered_for_each_sort(client, buyer, auth, market, sort, key):
    headers = auth(buyer)
    items = _all_pages(client, headers, sort=sort)
    assert len(items) == 4 and len({item["id"] for item in items}) == 4
    assert items == sorted(items, key=key, reverse=True)
    _, whole = get(client, headers, "/api/v1/leads", sort=sort)
    assert [item["id"] for item in items] == ids(whole)


def test_ties_are_broken_by_id_in_the_sorts_direction(client, buyer, auth, market):
    """The two solar leads share their price: the cheaper-first sort keeps id ascending."""
    items = _all_pages(client, auth(buyer), sort="price", vertical="solar")
    assert [item["id"] for item in items] == sorted([market["sql"].id, market["lost"].id])


def test_a_cursor_reused_with_another_sort_or_filters_is_422(client, buyer, auth, market):
    headers = auth(buyer)
    _, first = get(client, headers, "/api/v1/leads", sort="score", limit=1)
    cursor = first["next_cursor"]
    assert cursor
    for params in ({"sort": "price"}, {"sort": "score", "min_score": 1}, {}):
        status, body = get(client, headers, "/api/v1/leads", cursor=cursor, limit=1, **params)
        assert status == 422 and body["error"]["code"] == "invalid_cursor", params
    status, _ = get(client, headers, "/api/v1/leads", sort="score", cursor=cursor, limit=1)
    assert status == 200


@pytest.mark.parametrize(
    "tamper",
    [
        lambda c: "garbage",
        lambda c: c + "x",
        lambda c: c.split(".")[0] + ".",
        lambda c: "AAAAAAAAAAAA." + c.split(".", 1)[1],
        lambda c: c.split(".")[0] + ".W1siZHQiOiAieCJ9LCAxXQ",
    ],
)
def test_a_tampered_cursor_is_422(client, buyer, auth, market, tamper):
    headers = auth(buyer)
    _, first = get(client, headers, "/api/v1/leads", limit=1)
    status, body = get(
        client, headers, "/api/v1/leads", limit=1, cursor=tamper(first["next_cursor"])
    )
    assert status == 422 and body["error"]["code"] == "invalid_cursor"


def test_load_filter_takes_the_same_keys_in_json_types():
    assert load_filter(
        {"stage": ["SQL", "MQL"], "min_score": 40, "exclusive": True, "country": "us",
         "postal_prefix": "sw1a 1"}
    ) == {"stage": ["MQL", "SQL"], "min_score": 40, "exclusive": True, "country": "US",
          "postal_prefix": "SW1A1"}  # fmt: skip
    for bad in (
        {"cursor": "x"},
        {"limit": 5},
        {"sort": "price"},
        {"stage": "SQL,MQL"},
        {"min_score": "40"},
        {"min_score": 40.5},
        {"exclusive": "true"},
        {"exclusive": 1},
        {"phone_type": ["pigeon"]},
        {"unknown": 1},
    ):
        with pytest.raises(ValidationError):
            load_filter(bad)
    with pytest.raises(ValidationError):
        load_filter(["not", "an", "object"])
