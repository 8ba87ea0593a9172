"""The buyer's /buyer/leads and /buyer/purchases pages: full contacts of what it bought only,
outcomes through a CSRF form with errors beside the field, CSV exports, 404 for others'."""

import csv
import io
import re

from sqlalchemy import select

from app.extensions import db
from marketplace.purchases import services as purchases
from marketplace.purchases.models import PurchasedLead
from tests.billing.helpers import fund_wallet
from tests.helpers import assert_forbidden, bearer, csrf_token, field_html, make_user
from tests.marketplace.listings.market import list_leads

JSON = {"Accept": "application/json"}


def text(response) -> str:
    return " ".join(response.get_data(as_text=True).split())


def bought(buyer, seller, count=1, **row):
    """``count`` new leads of ``seller``, bought by ``buyer`` in one purchase."""
    leads = list_leads(seller, *[dict(row) for _ in range(count)])
    fund_wallet(buyer.organization_id, 100_000)
    purchase = purchases.purchase_leads(buyer=buyer, lead_ids=[lead.id for lead in leads])
    return purchase, leads


def outcome_of(buyer, lead):
    db.session.expire_all()
    return db.session.execute(
        select(PurchasedLead.outcome, PurchasedLead.outcome_reason).where(
            PurchasedLead.buyer_org_id == buyer.organization_id, PurchasedLead.lead_id == lead.id
        )
    ).one()


def test_the_buyer_sees_its_bought_leads_in_full_newest_first(client, login, buyer, seller):
    _, (older,) = bought(buyer, seller, last_name="Olderson", address="1 Old Road")
    _, (newer,) = bought(buyer, seller, last_name="Newman")
    other_buyer = make_user("buyer")
    _, (theirs,) = bought(other_buyer, seller, last_name="Elsewhere")
    login(buyer)
    page = client.get("/buyer/leads")
    assert page.status_code == 200
    html = text(page)
    for lead in (older, newer):
        assert lead.email in html and lead.last_name in html
    assert "1 Old Road" in html
    assert html.index(newer.email) < html.index(older.email)  # newest first
    assert theirs.email not in html and "Elsewhere" not in html
    assert "Return by" in html
    assert f'href="/buyer/disputes/new?lead_id={newer.id}"' in html
    # Once returned, the lead links to its dispute instead.
    opened = client.post(
        "/api/v1/disputes",
        json={"lead_id": newer.id, "reason": "other", "note": "Never answers"},
        headers=bearer(buyer),
    ).get_json()
    html = text(client.get("/buyer/leads"))
    assert f'href="/buyer/disputes/{opened["id"]}"' in html and "Return open" in html
    assert f'href="/buyer/disputes/new?lead_id={newer.id}"' not in html
    assert 'href="/buyer/leads/export.csv"' in html
    assert 'href="/buyer/leads"' in html  # the navigation


def test_the_list_filters_by_outcome_and_purchase_and_pages(client, login, buyer, seller):
    first, (a, b) = bought(buyer, seller, 2)
    second, (c,) = bought(buyer, seller)
    purchases.record_outcome(buyer=buyer, lead_id=a.id, outcome="won")
    login(buyer)
    won = text(client.get("/buyer/leads?outcome=won&purchase_id="))
    assert a.email in won and b.email not in won and c.email not in won
    of_first = text(client.get(f"/buyer/leads?purchase_id={first.id}"))
    assert a.email in of_first and b.email in of_first and c.email not in of_first
    one = client.get("/buyer/leads?limit=1").get_data(as_text=True)
    next_url = re.search(r'href="([^"]+)" rel="next"', one).group(1).replace("&amp;", "&")
    assert c.email in one and a.email not in one
    assert b.email in client.get(next_url).get_data(as_text=True)


def test_bad_filter_values_show_beside_their_field(client, login, buyer, seller):
    bought(buyer, seller)
    login(buyer)
    for query, field_id in (("outcome=great", "f-outcome"), ("purchase_id=abc", "f-purchase")):
        page = client.get(f"/buyer/leads?{query}")
        assert page.status_code == 422
        html = page.get_data(as_text=True)
        field = field_html(html, field_id)
        assert 'aria-invalid="true"' in field and 'class="error"' in field
        assert "Correct the filters" in html
    assert client.get("/buyer/leads/export.csv?outcome=great").status_code == 422


def test_recording_an_outcome(client, login, buyer, seller):
    _, (lead,) = bought(buyer, seller)
    login(buyer)
    token = csrf_token(client, "/buyer/leads")
    url = f"/buyer/leads/{lead.id}/outcome?outcome="
    done = client.post(url, data={"csrf_token": token, "outcome": "won", "reason": ""})
    assert done.status_code == 302 and done.location.startswith("/buyer/leads")
    assert outcome_of(buyer, lead) == ("won", None)
    page = text(client.get(done.location))
    assert "marked won" in page


def test_a_lost_outcome_without_a_reason_is_refused_beside_the_field(client, login, buyer, seller):
    _, (lead,) = bought(buyer, seller)
    purchases.record_outcome(buyer=buyer, lead_id=lead.id, outcome="contacted")
    login(buyer)
    token = csrf_token(client, "/buyer/leads")
    url = f"/buyer/leads/{lead.id}/outcome"
    refused = client.post(url, data={"csrf_token": token, "outcome": "lost", "reason": "  "})
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert "Say why the lead was lost." in field_html(html, f"reason-{lead.id}")
    assert '<option selected value="lost">' in html  # the form as it was posted
    assert outcome_of(buyer, lead) == ("contacted", None)
    bad = client.post(url, data={"csrf_token": token, "outcome": "great"})
    assert bad.status_code == 422 and "Not a valid choice" in bad.get_data(as_text=True)
    assert outcome_of(buyer, lead) == ("contacted", None)
    kept = client.post(
        url, data={"csrf_token": token, "outcome": "lost", "reason": "Chose a rival"}
    )
    assert kept.status_code == 302
    assert outcome_of(buyer, lead) == ("lost", "Chose a rival")


def test_the_outcome_form_needs_its_csrf_token(client, login, buyer, seller):
    _, (lead,) = bought(buyer, seller)
    login(buyer)
    response = client.post(f"/buyer/leads/{lead.id}/outcome", data={"outcome": "won"})
    assert response.status_code == 400
    assert outcome_of(buyer, lead) == (None, None)


def test_another_buyers_leads_and_purchases_are_404(client, login, buyer, seller):
    purchase, (lead,) = bought(make_user("buyer"), seller)
    login(buyer)
    token = csrf_token(client, "/buyer/leads")
    post = client.post(
        f"/buyer/leads/{lead.id}/outcome", data={"csrf_token": token, "outcome": "won"}
    )
    assert post.status_code == 404
    assert lead.email not in post.get_data(as_text=True)
    for path in (f"/buyer/purchases/{purchase.id}", f"/buyer/purchases/{purchase.id}/export.csv"):
        response = client.get(path)
        assert response.status_code == 404 and lead.email not in response.get_data(as_text=True)
    assert (
        client.get(f"/buyer/leads/export.csv?purchase_id={purchase.id}")
        .get_data(as_text=True)
        .count("\n")
        == 1
    )  # the header alone


def test_sellers_are_refused_the_buyer_pages(client, login, seller):
    login(seller)
    for path in (
        "/buyer/leads",
        "/buyer/purchases",
        "/buyer/purchases/1",
        "/buyer/leads/export.csv",
    ):
        assert_forbidden(client.get(path, headers=JSON))
    token = csrf_token(client, "/dashboard")
    post = client.post("/buyer/leads/1/outcome", data={"csrf_token": token, "outcome": "won"})
    assert post.status_code == 403


def test_the_export_has_the_filtered_list_formula_safe(client, login, buyer, seller):
    _, (a, b) = bought(buyer, seller, 2)
    purchases.record_outcome(buyer=buyer, lead_id=b.id, outcome="qualified")
    login(buyer)
    response = client.get("/buyer/leads/export.csv?outcome=qualified")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert [row["lead_id"] for row in rows] == [str(b.id)]
    assert rows[0]["email"] == b.email and rows[0]["outcome"] == "qualified"
    assert rows[0]["phone"] == "'" + b.phone  # E.164's '+' kept as text
    everything = client.get("/buyer/leads/export.csv").get_data(as_text=True)
    assert a.email in everything and b.email in everything


def test_a_purchase_page_shows_total_leads_deadlines_and_delivery(client, login, buyer, seller):
    purchase, leads = bought(buyer, seller, 2)
    login(buyer)
    listing = text(client.get("/buyer/purchases"))
    assert f'href="/buyer/purchases/{purchase.id}"' in listing
    page = client.get(f"/buyer/purchases/{purchase.id}")
    assert page.status_code == 200
    html = text(page)
    assert "$30.00" in html  # two leads at $15.00
    for lead in leads:
        assert lead.email in html and f'id="lead-{lead.id}"' in html
    assert html.count("Return by") == 2
    assert html.count("not sent") == 2  # no delivery URL was set
    export = client.get(f"/buyer/purchases/{purchase.id}/export.csv")
    rows = list(csv.DictReader(io.StringIO(export.get_data(as_text=True).lstrip("\ufeff"))))
    assert sorted(row["email"] for row in rows) == sorted(lead.email for lead in leads)


def test_the_dashboard_counts_leads_by_outcome(client, login, buyer, seller):
    _, (a, b, c) = bought(buyer, seller, 3)
    purchases.record_outcome(buyer=buyer, lead_id=a.id, outcome="won")
    purchases.record_outcome(buyer=buyer, lead_id=b.id, outcome="lost", reason="No budget")
    login(buyer)
    html = text(client.get("/dashboard"))
    assert "Leads by outcome" in html
    assert "3 leads bought: 1 won, 1 lost, 1 without an outcome" in html
