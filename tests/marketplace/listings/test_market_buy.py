"""Buying from /market: the ticked leads or the first N matches, through a confirmation page
that shows the total and the wallet and buys only what the buyer confirmed."""

import html
import re

import pytest
from sqlalchemy import func, select, update

from app.db import transaction
from app.extensions import db
from billing import queries as billing_queries
from marketplace.models import Lead
from marketplace.purchases.models import Purchase, PurchasedLead
from tests.billing.helpers import fund_wallet
from tests.helpers import csrf_token, make_user
from tests.marketplace.listings.market import list_leads

FORM_RE = re.compile(r'<form method="post" action="([^"]+)" class="actions confirm-form">')
HIDDEN_RE = re.compile(r'<input type="hidden" name="(\w+)" value="([^"]*)">')


def confirm_form(page) -> tuple[str, dict]:
    """The Confirm form of a confirmation page: where it posts and what it sends."""
    text = page.get_data(as_text=True)
    match = FORM_RE.search(text)
    assert match, "no Confirm form on the page"
    form = text[match.end() : text.index("</form>", match.end())]
    return html.unescape(match.group(1)), dict(HIDDEN_RE.findall(form))


def change_lead(lead_id: int, **values) -> None:
    """What happens to a lead meanwhile: sold, repriced, withdrawn."""
    with transaction():
        db.session.execute(update(Lead).where(Lead.id == lead_id).values(**values))


def purchases() -> list[Purchase]:
    db.session.expire_all()
    return db.session.scalars(select(Purchase)).all()


def bought_ids(buyer) -> list[int]:
    db.session.expire_all()
    return sorted(
        db.session.scalars(
            select(PurchasedLead.lead_id).where(
                PurchasedLead.buyer_org_id == buyer.organization_id
            )
        )
    )


def shows_the_purchase(response, purchase: Purchase) -> bool:
    """A confirmed purchase goes to its own page."""
    return response.status_code == 302 and response.headers["Location"].endswith(
        f"/buyer/purchases/{purchase.id}"
    )


def test_buyer_buys_the_ticked_leads_after_confirming_the_total(client, login, buyer):
    seller = make_user("seller")
    first, second, third = list_leads(
        seller, {"city": "Fresno"}, {"city": "Fresno"}, {"city": "Fresno"}, price_cents=1250
    )
    fund_wallet(buyer.organization_id, 10_000)
    login(buyer)
    market = client.get("/market?city=Fresno").get_data(as_text=True)
    assert 'form="buy-selected"' in market and "Buy selected" in market
    assert 'name="quantity"' in market

    page = client.get(f"/market/buy?lead_ids={first.id}&lead_ids={third.id}&back=city%3DFresno")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert 'data-field="count">2<' in text
    assert 'data-field="total">$25.00<' in text and 'data-field="balance">$100.00<' in text
    assert first.email not in text and first.last_name not in text  # masked until bought
    assert 'href="/market?city=Fresno"' in text
    assert purchases() == []  # the confirmation page buys nothing

    action, data = confirm_form(page)
    assert data["expected_total_cents"] == "2500"
    done = client.post(action, data=data)
    (purchase,) = purchases()
    assert shows_the_purchase(done, purchase)
    assert bought_ids(buyer) == [first.id, third.id]
    assert purchase.total_cents == 2500
    assert billing_queries.get_wallet_balance(buyer.organization_id) == 7_500
    if done.status_code == 200:
        assert first.email in done.get_data(as_text=True)  # bought: now in full


def test_buy_n_matching_takes_the_first_matches_in_the_market_sort(client, login, buyer):
    seller = make_user("seller")
    cheap, dear = list_leads(seller, {}, {}, price_cents=900)
    (other,) = list_leads(seller, {}, price_cents=2000)
    change_lead(dear.id, price_cents=1100)
    fund_wallet(buyer.organization_id, 10_000)
    login(buyer)
    page = client.get("/market/buy?sort=price&quantity=2")
    text = page.get_data(as_text=True)
    assert page.status_code == 200, text
    assert 'data-field="total">$20.00<' in text  # 9.00 + 11.00, the two cheapest
    assert f'data-lead="{other.id}"' not in text
    action, data = confirm_form(page)
    client.post(action, data=data)
    assert bought_ids(buyer) == [cheap.id, dear.id]
    assert billing_queries.get_wallet_balance(buyer.organization_id) == 8_000


def test_buy_n_matching_offers_what_matches_when_fewer_match(client, login, buyer):
    list_leads(make_user("seller"), {"city": "Fresno"}, {"city": "Oakland"})
    fund_wallet(buyer.organization_id, 10_000)
    login(buyer)
    page = client.get("/market/buy?city=Fresno&quantity=5")
    assert "only 1 match now" in page.get_data(as_text=True)
    action, data = confirm_form(page)
    assert "quantity=1" in action and "city=Fresno" in action
    client.post(action, data=data)
    assert len(bought_ids(buyer)) == 1


def test_a_price_changed_since_the_page_shows_it_and_buys_nothing(client, login, buyer):
    (lead,) = list_leads(make_user("seller"), {}, price_cents=1000)
    fund_wallet(buyer.organization_id, 10_000)
    login(buyer)
    action, data = confirm_form(client.get(f"/market/buy?lead_ids={lead.id}"))
    change_lead(lead.id, price_cents=1400)
    refused = client.post(action, data=data)
    text = refused.get_data(as_text=True)
    assert "Prices changed since this page was drawn, so nothing was bought" in text
    assert 'data-field="total">$14.00<' in text  # the new total, to confirm again
    assert purchases() == [] and bought_ids(buyer) == []
    assert billing_queries.get_wallet_balance(buyer.organization_id) == 10_000

    action, again = confirm_form(refused)
    assert again["expected_total_cents"] == "1400"
    assert again["request_id"] != data["request_id"]  # a refused request is over
    client.post(action, data=again)
    assert bought_ids(buyer) == [lead.id]


def test_insufficient_funds_show_the_amounts_and_a_top_up_link(client, login, buyer):
    leads = list_leads(make_user("seller"), {}, {}, price_cents=1500)
    fund_wallet(buyer.organization_id, 2_000)
    login(buyer)
    page = client.get(f"/market/buy?lead_ids={leads[0].id},{leads[1].id}")
    text = page.get_data(as_text=True)
    assert "needs <strong>$30.00</strong> and your wallet has <strong>$20.00</strong>" in text
    assert 'href="/billing"' in text
    action, data = confirm_form(page)
    refused = client.post(action, data=data)
    text = refused.get_data(as_text=True)
    assert "Your wallet does not cover this purchase, so nothing was bought" in text
    assert "needs <strong>$30.00</strong> and your wallet has <strong>$20.00</strong>" in text
    assert purchases() == []
    assert billing_queries.get_wallet_balance(buyer.organization_id) == 2_000


def test_a_lead_sold_meanwhile_is_explained_and_nothing_is_bought(client, login, buyer):
    kept, sold = list_leads(make_user("seller"), {}, {})
    fund_wallet(buyer.organization_id, 10_000)
    login(buyer)
    action, data = confirm_form(client.get(f"/market/buy?lead_ids={kept.id},{sold.id}"))
    change_lead(sold.id, sales_count=1)
    refused = client.post(action, data=data)
    text = refused.get_data(as_text=True)
    assert "A lead was sold or withdrawn meanwhile, so nothing was bought" in text
    assert f"#{sold.id}</span>" in text and "no longer for sale to you" in text
    assert purchases() == []
    action, again = confirm_form(refused)
    assert f"lead_ids={kept.id}" in action and str(sold.id) not in action.split("lead_ids=")[1]


def test_fewer_matches_at_confirmation_is_explained(client, login, buyer):
    leads = list_leads(make_user("seller"), {}, {})
    fund_wallet(buyer.organization_id, 10_000)
    login(buyer)
    action, data = confirm_form(client.get("/market/buy?quantity=2"))
    change_lead(leads[0].id, status="withdrawn")
    text = client.post(action, data=data).get_data(as_text=True)
    assert "Fewer leads match now than you asked for, so nothing was bought" in text
    assert purchases() == []


def test_a_double_submitted_confirmation_buys_once(client, login, buyer):
    leads = list_leads(make_user("seller"), {}, {}, price_cents=1000)
    fund_wallet(buyer.organization_id, 10_000)
    login(buyer)
    action, data = confirm_form(client.get(f"/market/buy?lead_ids={leads[0].id},{leads[1].id}"))
    first = client.post(action, data=data)
    second = client.post(action, data=data)
    (purchase,) = purchases()
    assert shows_the_purchase(first, purchase) and shows_the_purchase(second, purchase)
    assert billing_queries.get_wallet_balance(buyer.organization_id) == 8_000
    db.session.expire_all()
    assert db.session.scalar(select(func.sum(Lead.sales_count))) == 2


def test_a_confirmation_without_its_csrf_token_buys_nothing(client, login, buyer):
    (lead,) = list_leads(make_user("seller"), {})
    fund_wallet(buyer.organization_id, 10_000)
    login(buyer)
    action, data = confirm_form(client.get(f"/market/buy?lead_ids={lead.id}"))
    del data["csrf_token"]
    refused = client.post(action, data=data)
    assert refused.status_code == 400
    assert "The form expired or was not sent from this site." in refused.get_data(as_text=True)
    assert purchases() == []


def test_bad_buy_requests_are_explained(client, login, buyer):
    login(buyer)
    nothing = client.get("/market/buy")
    assert nothing.status_code == 422
    assert "Tick the leads to buy, or say how many." in nothing.get_data(as_text=True)
    too_many = client.get("/market/buy?quantity=501")
    assert too_many.status_code == 422
    assert "A number from 1 to 500." in too_many.get_data(as_text=True)
    assert client.get("/market/buy?quantity=0").status_code == 422
    assert client.get("/market/buy?quantity=2&min_score=lots").status_code == 422
    gone = client.get("/market/buy?lead_ids=999999")
    assert gone.status_code == 200
    assert "None of these leads can be bought now" in gone.get_data(as_text=True)


@pytest.mark.parametrize("role", ["seller", "admin"])
def test_only_buyers_see_and_use_the_buy_controls(client, login, role):
    (lead,) = list_leads(make_user("seller"), {})
    login(make_user(role))
    text = client.get("/market").get_data(as_text=True)
    assert "lead_ids" not in text and "Buy selected" not in text and 'name="quantity"' not in text
    assert client.get(f"/market/buy?lead_ids={lead.id}").status_code == 403
    data = {"csrf_token": csrf_token(client, "/market"), "expected_total_cents": "1500"}
    refused = client.post(f"/market/buy?lead_ids={lead.id}", data=data)
    assert refused.status_code == 403
    assert purchases() == []
