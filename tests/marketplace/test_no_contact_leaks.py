"""A buyer who has not bought a lead never reads its contact: not on a page, an API answer, an
error message, a CSV, a delivery or a ledger reference, whether another buyer bought it or it
is still on sale. Every page and endpoint that shows leads is walked with both leads."""

from sqlalchemy import select

from app.extensions import db
from billing.models import LedgerTransaction, Sale
from marketplace.delivery.models import DeliveryAttempt
from tests.billing.helpers import fund_wallet
from tests.helpers import make_user
from tests.marketplace.listings.market import contact_values, list_leads

PERSONS = (
    {"first_name": "Johanna", "last_name": "Quist", "email": "johanna.quist@example.com",
     "phone": "+1 415 555 0199", "address": "9 Harbor Lane", "city": "Fresno"},
    {"first_name": "Bartholomew", "last_name": "Yelland", "email": "b.yelland@example.org",
     "phone": "+1 415 555 0177", "address": "77 Pine Street", "city": "Fresno"},
)  # fmt: skip


def _read(response):
    """The whole answer, read and closed at once (CSV answers stream)."""
    response.get_data()
    response.close()
    return response


def _no_contact(response, leads) -> None:
    text = response.get_data(as_text=True)
    for lead in leads:
        for value in contact_values(lead):
            assert value not in text, (response.request.method, response.request.path, value)


def test_no_page_endpoint_error_or_reference_shows_an_unbought_contact(
    client, auth, login, seller
):
    sold, unsold = list_leads(seller, *PERSONS)
    owner = make_user("buyer")
    fund_wallet(owner.organization_id, 10_000)
    bought = client.post(
        "/api/v1/purchases", json={"lead_ids": [sold.id]}, headers=auth(owner)
    ).get_json()
    assert bought["items"][0]["lead"]["contact"]["email"] == sold.email  # the owner sees it
    leads = (sold, unsold)

    outsider = make_user("buyer")  # no money, bought nothing
    headers = auth(outsider)
    purchase = bought["id"]
    api = [
        _read(client.get("/api/v1/leads", headers=headers)),
        _read(client.get("/api/v1/leads?city=Fresno", headers=headers)),
        _read(client.get(f"/api/v1/leads/{sold.id}", headers=headers)),
        _read(client.get(f"/api/v1/leads/{unsold.id}", headers=headers)),
        _read(client.get("/api/v1/purchases", headers=headers)),
        _read(client.get(f"/api/v1/purchases/{purchase}", headers=headers)),
        _read(client.get(f"/api/v1/purchases/{purchase}/export.csv", headers=headers)),
        _read(client.get("/api/v1/purchased-leads", headers=headers)),
        _read(
            client.put(
                f"/api/v1/purchased-leads/{sold.id}/outcome",
                json={"outcome": "won"},
                headers=headers,
            )
        ),
        _read(client.get("/api/v1/delivery/attempts", headers=headers)),
        _read(client.get(f"/api/v1/sellers/{seller.organization_id}/quality", headers=headers)),
        # Refusals: sold out, too little money, a return of a lead it never bought.
        _read(client.post("/api/v1/purchases", json={"lead_ids": [sold.id]}, headers=headers)),
        _read(client.post("/api/v1/purchases", json={"lead_ids": [unsold.id]}, headers=headers)),
        _read(
            client.post(
                "/api/v1/purchases",
                json={"filter": {"city": "Fresno"}, "quantity": 2},
                headers=headers,
            )
        ),
        _read(
            client.post(
                "/api/v1/disputes",
                json={"lead_id": sold.id, "reason": "other", "note": "x"},
                headers=headers,
            )
        ),
        _read(client.get("/api/v1/disputes", headers=headers)),
    ]
    statuses = [response.status_code for response in api]
    assert statuses[2] == 404 and statuses[5] == 404 and statuses[6] == 404
    assert statuses[11] == 409 and statuses[12] == 402 and statuses[14] == 404
    for response in api:
        _no_contact(response, leads)

    login(outsider)
    pages = [
        _read(client.get("/market")),
        _read(client.get("/market?city=Fresno")),
        _read(client.get(f"/leads/{sold.id}")),
        _read(client.get(f"/leads/{unsold.id}")),
        _read(client.get(f"/market/buy?lead_ids={sold.id},{unsold.id}")),
        _read(client.get("/market/buy?city=Fresno&quantity=2")),
        _read(client.get("/buyer/leads")),
        _read(client.get("/buyer/leads/export.csv")),
        _read(client.get("/buyer/purchases")),
        _read(client.get(f"/buyer/purchases/{purchase}")),
        _read(client.get(f"/buyer/purchases/{purchase}/export.csv")),
        _read(client.get("/buyer/saved-searches")),
        _read(client.get("/buyer/delivery")),
        _read(client.get(f"/sellers/{seller.organization_id}")),
        _read(client.get("/billing")),
        _read(client.get("/billing/receipts.csv")),
        _read(client.get("/")),
    ]
    assert [p.status_code for p in pages][2:4] == [404, 200]
    assert [p.status_code for p in pages][9:11] == [404, 404]
    for response in pages:
        _no_contact(response, leads)

    # Money records name no contact, whoever reads them; deliveries go to the owner only.
    references = [
        *db.session.scalars(select(LedgerTransaction.reference)),
        *db.session.scalars(select(Sale.reference)),
    ]
    assert references
    for reference in references:
        for lead in leads:
            for value in contact_values(lead):
                assert value not in (reference or ""), reference
    assert not db.session.scalars(
        select(DeliveryAttempt).where(DeliveryAttempt.organization_id == outsider.organization_id)
    ).all()
