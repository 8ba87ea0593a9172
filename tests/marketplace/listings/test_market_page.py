"""The /market page: filters beside the results, masked leads only, errors beside the field."""

from marketplace.listings import views
from tests.billing.helpers import fund_wallet
from tests.helpers import bearer, csrf_token, make_user
from tests.marketplace.listings.market import contact_values, list_leads


def test_the_market_page_lists_masked_leads_with_their_score_breakdown(client, login, buyer):
    seller = make_user("seller")
    (lead,) = list_leads(
        seller,
        {"first_name": "John", "last_name": "Smith", "email": "john.smith@example.com",
         "address": "1 Market Street", "has_budget": "yes", "is_decision_maker": "yes"},
    )  # fmt: skip
    login(buyer)
    page = client.get("/market")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "j***@example.com" in text and "J. S." in text
    for secret in ("john.smith@example.com", "Smith", "1 Market Street", lead.phone,
                   lead.consent_ip):  # fmt: skip
        assert secret not in text
    assert 'class="score-breakdown"' in text
    assert lead.score_breakdown[0]["label"] in text
    assert 'href="/market"' in text  # the navigation links to the market


def test_filters_narrow_the_page_and_a_bad_value_shows_beside_its_field(client, login, buyer):
    seller = make_user("seller")
    list_leads(seller, {"city": "Oakland", "last_name": "Alpha"}, {"city": "Fresno"})
    login(buyer)
    text = client.get("/market?city=Fresno&stage=&vertical=").get_data(as_text=True)
    assert "Fresno" in text and "Oakland" not in text.split("market-results")[1]
    bad = client.get("/market?min_score=lots")
    assert bad.status_code == 200
    assert 'aria-invalid="true"' in bad.get_data(as_text=True)
    # A bad box in a list filter is explained in words beside it, not by its index ("0").
    box = client.get("/market?stage=Hot").get_data(as_text=True)
    stage = box.split("<legend>Stage</legend>")[1].split("</fieldset>")[0]
    assert '<small class="error">Must be one of' in stage
    assert '<small class="error">0</small>' not in box


def test_the_market_page_needs_a_sign_in(client):
    assert client.get("/market").status_code == 302


def test_the_market_page_pages_through_results(client, login, buyer, monkeypatch):
    monkeypatch.setattr(views, "PAGE_SIZE", 1)
    list_leads(make_user("seller"), {}, {})
    login(buyer)
    first = client.get("/market?sort=price").get_data(as_text=True)
    assert 'rel="next"' in first


def test_the_lead_page_is_masked_until_bought_and_full_for_its_seller(client, login, buyer):
    seller = make_user("seller")
    (lead,) = list_leads(
        seller,
        {"first_name": "Johanna", "last_name": "Quist", "email": "johanna.quist@example.com",
         "address": "9 Harbor Lane", "has_budget": "yes"},
    )  # fmt: skip
    login(buyer)
    page = client.get(f"/leads/{lead.id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "j***@example.com" in html and lead.score_breakdown[0]["label"] in html
    assert f'href="/market/buy?lead_ids={lead.id}' in html  # buy it from here
    assert f'href="/leads/{lead.id}"' in client.get("/market").get_data(as_text=True)
    for value in contact_values(lead):
        assert value not in html, value
    assert client.get("/leads/999999").status_code == 404

    # Bought: the buyer reads it in full, and another buyer, now that it is sold out, not at all.
    fund_wallet(buyer.organization_id, 10_000)
    client.post("/api/v1/purchases", json={"lead_ids": [lead.id]}, headers=bearer(buyer))
    html = client.get(f"/leads/{lead.id}").get_data(as_text=True)
    assert lead.email in html and "9 Harbor Lane" in html and "/market/buy" not in html
    client.post("/logout", data={"csrf_token": _csrf(client)})
    login(make_user("buyer"))
    assert client.get(f"/leads/{lead.id}").status_code == 404
    client.post("/logout", data={"csrf_token": _csrf(client)})
    login(seller)
    assert lead.email in client.get(f"/leads/{lead.id}").get_data(as_text=True)


def _csrf(client):
    return csrf_token(client, "/dashboard")


def test_url_for_options_in_a_query_string_are_ignored_not_a_500(client, login, buyer):
    seller = make_user("seller")
    list_leads(seller, {}, {})
    login(buyer)
    for url in (
        "/market?_external=1&_scheme=javascript&cursor=abc",
        "/market?_method=POST&city=Fresno",
        "/buyer/leads?_method=POST",
        "/buyer/leads?_external=1",
    ):
        response = client.get(url)
        assert response.status_code < 500, url
        assert "javascript:" not in response.get_data(as_text=True), url
