"""The buyer's /buyer/saved-searches pages: the list with each order's state and why it paused,
create (prefilled from /market), edit, pause and resume, delete; errors beside their field."""

import re

from sqlalchemy import func, select

from app.extensions import db
from marketplace.autobuy import services as autobuy
from marketplace.autobuy.models import SavedSearch
from tests.helpers import assert_forbidden, csrf_token, field_html, make_user

CAPS = {"max_price_cents": 2000, "daily_cap": 5, "budget_cents": 10_000}


def text(response) -> str:
    return " ".join(response.get_data(as_text=True).split())


def saved(buyer, name="Solar SQLs", filter=None, auto_buy=CAPS):
    search = autobuy.create_saved_search(
        buyer=buyer,
        name=name,
        filter=filter if filter is not None else {"vertical": "solar", "stage": ["SQL"]},
        auto_buy=dict(auto_buy) if auto_buy else None,
    )
    return search.id


def reload(search_id) -> SavedSearch | None:
    db.session.expire_all()
    return db.session.get(SavedSearch, search_id)


def count() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(SavedSearch))


def test_the_list_shows_each_orders_state_and_why_it_paused(client, login, buyer):
    active = saved(buyer, "Active one")
    paused = saved(buyer, "Paused one")
    plain = saved(buyer, "No auto-buy", auto_buy=None)
    autobuy.pause_auto_buy(
        buyer_org_id=buyer.organization_id, reason="auto_recharge_failed: card_declined"
    )
    autobuy.set_auto_buy_status(buyer=buyer, search_id=active, status="active")
    theirs = saved(make_user("buyer"), "Not yours")
    login(buyer)
    html = text(client.get("/buyer/saved-searches"))
    assert "Active one" in html and "Paused one" in html and "No auto-buy" in html
    assert "Not yours" not in html
    row = html[html.index(f'id="search-{paused}"') :]
    row = row[: row.index("</tr>")]
    assert "paused" in row and "Why: auto_recharge_failed: card_declined" in row
    assert "$0.00 of $100.00" in row and "0 of 5 today" in row and ">Resume<" in row
    active_row = html[html.index(f'id="search-{active}"') :]
    assert ">Pause<" in active_row[: active_row.index("</tr>")]
    assert f'id="search-{plain}"' in html and f'id="search-{theirs}"' not in html
    assert "stage=SQL" in html and "vertical=solar" in html  # opens in the market
    dashboard = text(client.get("/dashboard"))
    assert "Auto-buy" in dashboard
    assert "1 active, 1 paused (paused: auto_recharge_failed: card_declined)" in dashboard


def test_a_search_is_created_from_the_market_query(client, login, buyer):
    login(buyer)
    market = client.get("/market?vertical=solar&stage=SQL&stage=MQL&min_score=40&sort=price")
    assert 'href="/buyer/saved-searches/new?vertical=solar&amp;stage=SQL&amp;stage=MQL' in (
        market.get_data(as_text=True)
    )
    form = client.get("/buyer/saved-searches/new?vertical=solar&stage=SQL&stage=MQL&min_score=40")
    html = form.get_data(as_text=True)
    assert '<option value="solar" selected>' in html
    assert 'value="SQL" checked' in html and 'value="MQL" checked' in html
    assert 'value="40"' in html
    token = csrf_token(client, "/buyer/saved-searches")
    created = client.post(
        "/buyer/saved-searches/new",
        data={
            "csrf_token": token, "name": "Warm solar", "vertical": "solar",
            "stage": ["SQL", "MQL"], "min_score": "40", "exclusive": "true",
            "auto_buy": "y", "max_price": "20.00", "daily_cap": "5", "budget": "100",
        },
    )  # fmt: skip
    assert created.status_code == 302
    (search,) = db.session.scalars(select(SavedSearch)).all()
    assert search.name == "Warm solar" and search.buyer_org_id == buyer.organization_id
    assert search.filter == {
        "vertical": "solar", "stage": ["MQL", "SQL"], "min_score": 40, "exclusive": True,
    }  # fmt: skip
    assert search.auto_buy_status == "active"
    assert (search.max_price_cents, search.daily_cap, search.budget_cents) == (2000, 5, 10_000)


def test_bad_input_is_shown_beside_its_field_and_saves_nothing(client, login, buyer):
    login(buyer)
    token = csrf_token(client, "/buyer/saved-searches")
    cases = [
        ({"name": ""}, "name", "Name this search."),
        ({"name": "x", "min_score": "lots"}, "f-min_score", "Not a valid integer."),
        ({"name": "x", "stage": "Hot"}, "f-stage", "Must be one of"),
        ({"name": "x", "country": "USA"}, "f-country", "String does not match"),
        ({"name": "x", "auto_buy": "y", "daily_cap": "5", "budget": "10"}, "max_price",
         "Needed for auto-buy."),
        ({"name": "x", "auto_buy": "y", "max_price": "1.234", "daily_cap": "5", "budget": "1"},
         "max_price", "Whole cents only"),
        ({"name": "x", "auto_buy": "y", "max_price": "1", "daily_cap": "0", "budget": "1"},
         "daily_cap", "Number must be between 1 and 10000."),
    ]  # fmt: skip
    for data, field_id, problem in cases:
        refused = client.post("/buyer/saved-searches/new", data={"csrf_token": token, **data})
        assert refused.status_code == 422, data
        html = refused.get_data(as_text=True)
        if field_id == "f-stage":  # a fieldset of boxes
            block = html[html.index("<legend>Stage</legend>") :][:2000]
            assert problem in block[: block.index("</fieldset>")]
        else:
            assert problem in field_html(html, field_id), (data, field_html(html, field_id))
    assert count() == 0


def test_editing_keeps_the_orders_state_and_spending(client, login, buyer):
    search_id = saved(buyer)
    autobuy.set_auto_buy_status(buyer=buyer, search_id=search_id, status="paused")
    login(buyer)
    page = client.get(f"/buyer/saved-searches/{search_id}/edit")
    html = page.get_data(as_text=True)
    assert 'value="Solar SQLs"' in html and 'value="SQL" checked' in html
    assert 'value="20.00"' in html  # the cap in dollars
    token = csrf_token(client, "/buyer/saved-searches")
    edited = client.post(
        f"/buyer/saved-searches/{search_id}/edit",
        data={"csrf_token": token, "name": "Renamed", "vertical": "mortgage",
              "auto_buy": "y", "max_price": "25", "daily_cap": "7", "budget": "200"},
    )  # fmt: skip
    assert edited.status_code == 302
    search = reload(search_id)
    assert search.name == "Renamed" and search.filter == {"vertical": "mortgage"}
    assert (search.max_price_cents, search.daily_cap, search.budget_cents) == (2500, 7, 20_000)
    assert search.auto_buy_status == "paused" and search.paused_reason == "paused by the buyer"
    bad = client.post(
        f"/buyer/saved-searches/{search_id}/edit",
        data={"csrf_token": token, "name": "Again", "max_age_days": "0"},
    )
    assert bad.status_code == 422 and reload(search_id).name == "Renamed"
    off = client.post(
        f"/buyer/saved-searches/{search_id}/edit", data={"csrf_token": token, "name": "Plain"}
    )
    assert off.status_code == 302 and reload(search_id).auto_buy_status is None


def test_pause_resume_and_delete(client, login, buyer):
    search_id = saved(buyer)
    plain = saved(buyer, auto_buy=None)
    login(buyer)
    token = csrf_token(client, "/buyer/saved-searches")
    base = f"/buyer/saved-searches/{search_id}"
    assert client.post(f"{base}/pause", data={"csrf_token": token}).status_code == 302
    assert reload(search_id).auto_buy_status == "paused"
    assert "Why: paused by the buyer" in text(client.get("/buyer/saved-searches"))
    assert client.post(f"{base}/resume", data={"csrf_token": token}).status_code == 302
    assert reload(search_id).auto_buy_status == "active"
    assert reload(search_id).paused_reason is None
    refused = client.post(f"/buyer/saved-searches/{plain}/pause", data={"csrf_token": token})
    assert refused.status_code == 302
    assert "This saved search does not auto-buy." in text(client.get(refused.location))
    assert client.post(f"{base}/delete", data={"csrf_token": token}).status_code == 302
    assert reload(search_id) is None


def test_the_forms_need_their_csrf_token(client, login, buyer):
    search_id = saved(buyer)
    login(buyer)
    base = f"/buyer/saved-searches/{search_id}"
    assert client.post("/buyer/saved-searches/new", data={"name": "x"}).status_code == 400
    assert client.post(f"{base}/edit", data={"name": "x"}).status_code == 400
    assert client.post(f"{base}/pause").status_code == 400
    assert client.post(f"{base}/delete").status_code == 400
    search = reload(search_id)
    assert search.name == "Solar SQLs" and search.auto_buy_status == "active" and count() == 1


def test_others_searches_are_404_and_sellers_are_refused(client, login, buyer, seller):
    theirs = saved(make_user("buyer"))
    login(buyer)
    token = csrf_token(client, "/buyer/saved-searches")
    base = f"/buyer/saved-searches/{theirs}"
    assert client.get(f"{base}/edit").status_code == 404
    for action in ("edit", "pause", "delete"):
        response = client.post(f"{base}/{action}", data={"csrf_token": token, "name": "Mine"})
        assert response.status_code == 404, action
    search = reload(theirs)
    assert search.name == "Solar SQLs" and search.auto_buy_status == "active"
    client.post("/logout", data={"csrf_token": token})
    login(seller)
    for path in ("/buyer/saved-searches", "/buyer/saved-searches/new", f"{base}/edit"):
        assert_forbidden(client.get(path, headers={"Accept": "application/json"}))
    seller_token = csrf_token(client, "/dashboard")
    posted = client.post(f"{base}/delete", data={"csrf_token": seller_token})
    assert posted.status_code == 403 and reload(theirs) is not None


def test_the_list_pages_newest_first(client, login, buyer, monkeypatch):
    from marketplace.autobuy import views

    monkeypatch.setattr(views, "PAGE_SIZE", 1)
    saved(buyer, "Older search")
    saved(buyer, "Newer search")
    login(buyer)
    first = client.get("/buyer/saved-searches").get_data(as_text=True)
    assert "Newer search" in first and "Older search" not in first
    next_url = re.search(r'href="([^"]+)" rel="next"', first).group(1).replace("&amp;", "&")
    second = client.get(next_url).get_data(as_text=True)
    assert "Older search" in second and "First page" in second
