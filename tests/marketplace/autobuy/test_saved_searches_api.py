"""/api/v1/saved-searches: a buyer's own named filters with optional auto-buy orders."""

from tests.helpers import make_user

AUTO = {"max_price_cents": 2000, "daily_cap": 5, "budget_cents": 10_000}


def test_crud_of_a_buyers_own_saved_search(client, buyer, auth):
    headers = auth(buyer)
    body = {"name": "Solar CA", "filter": {"vertical": "solar", "country": "us"}}
    created = client.post("/api/v1/saved-searches", json=body, headers=headers)
    assert created.status_code == 201, created.get_json()
    search = created.get_json()
    assert search["name"] == "Solar CA" and search["auto_buy"] is None
    assert search["filter"] == {"vertical": "solar", "country": "US"}
    assert search["created_at"]
    url = f"/api/v1/saved-searches/{search['id']}"

    assert client.get(url, headers=headers).get_json() == search
    listed = client.get("/api/v1/saved-searches", headers=headers).get_json()
    assert [item["id"] for item in listed["items"]] == [search["id"]]

    replaced = client.put(
        url, json={"name": "Any", "filter": {"min_score": 50}, "auto_buy": AUTO}, headers=headers
    )
    assert replaced.status_code == 200, replaced.get_json()
    assert replaced.get_json()["filter"] == {"min_score": 50}
    assert replaced.get_json()["auto_buy"] == {
        **AUTO,
        "status": "active",
        "paused_reason": None,
        "spent_cents": 0,
        "bought_today": 0,
    }
    # PUT replaces the whole search: without auto_buy it stops buying.
    plain = client.put(url, json={"name": "Any"}, headers=headers).get_json()
    assert plain["auto_buy"] is None and plain["filter"] == {}

    assert client.delete(url, headers=headers).status_code == 204
    assert client.get(url, headers=headers).status_code == 404


def test_validation_other_buyers_and_sellers(client, buyer, seller, auth):
    headers = auth(buyer)
    unknown = client.post(
        "/api/v1/saved-searches", json={"name": "x", "filter": {"colour": "red"}}, headers=headers
    )
    assert unknown.status_code == 422
    bad_cap = client.post(
        "/api/v1/saved-searches",
        json={"name": "x", "auto_buy": {**AUTO, "daily_cap": 0}},
        headers=headers,
    )
    assert bad_cap.status_code == 422
    assert client.post("/api/v1/saved-searches", json={}, headers=headers).status_code == 422

    mine = client.post("/api/v1/saved-searches", json={"name": "x"}, headers=headers).get_json()
    other = auth(make_user("buyer"))
    url = f"/api/v1/saved-searches/{mine['id']}"
    assert client.get(url, headers=other).status_code == 404
    assert client.put(url, json={"name": "y"}, headers=other).status_code == 404
    assert client.delete(url, headers=other).status_code == 404
    assert client.get("/api/v1/saved-searches", headers=other).get_json()["items"] == []

    seller_headers = auth(seller)
    assert client.get("/api/v1/saved-searches", headers=seller_headers).status_code == 403
    assert (
        client.post("/api/v1/saved-searches", json={"name": "x"}, headers=seller_headers)
    ).status_code == 403
