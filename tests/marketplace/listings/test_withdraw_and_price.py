"""Sellers (and admins) take batches and leads off sale and reprice what is unsold; admins keep
the suppression list, and a new entry withdraws the person's listed leads at once."""

from sqlalchemy import select, update

from app.auth.models import AuditEntry
from app.db import transaction
from app.extensions import db
from marketplace.models import Batch, Lead, Suppression
from tests.helpers import assert_forbidden, make_user
from tests.marketplace.listings.market import get, ids, list_leads


def _audited(action: str) -> int:
    return len(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action)).all())


def _lead(lead_id: int) -> Lead:
    db.session.expire_all()
    return db.session.get(Lead, lead_id)


def test_a_seller_withdraws_its_batch_and_its_leads_leave_the_market(client, seller, buyer, auth):
    first, second = list_leads(seller, {}, {})
    with transaction():  # one lead already sold out stays with its buyer, withdrawn from sale
        db.session.execute(update(Lead).where(Lead.id == second.id).values(sales_count=1))
    response = client.post(f"/api/v1/batches/{first.batch_id}/withdraw", headers=auth(seller))
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == "withdrawn"
    assert {_lead(first.id).status, _lead(second.id).status} == {"withdrawn"}
    assert _lead(second.id).sales_count == 1
    assert ids(get(client, auth(buyer), "/api/v1/leads")[1]) == []
    assert _audited("batch.withdrawn") == 1
    again = client.post(f"/api/v1/batches/{first.batch_id}/withdraw", headers=auth(seller))
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "batch_not_listed"


def test_withdrawing_a_batch_is_for_its_seller_and_admins_only(client, seller, admin, auth):
    (lead,) = list_leads(seller, {})
    path = f"/api/v1/batches/{lead.batch_id}/withdraw"
    assert client.post(path, headers=auth(make_user("seller"))).status_code == 404
    assert_forbidden(client.post(path, headers=auth(make_user("buyer"))))
    assert client.post(path, headers=auth(admin)).status_code == 200


def test_a_seller_withdraws_one_lead(client, seller, buyer, auth):
    kept, gone = list_leads(seller, {}, {})
    assert client.post(f"/api/v1/leads/{gone.id}/withdraw", headers=auth(buyer)).status_code == 403
    other = auth(make_user("seller"))
    assert client.post(f"/api/v1/leads/{gone.id}/withdraw", headers=other).status_code == 404
    response = client.post(f"/api/v1/leads/{gone.id}/withdraw", headers=auth(seller))
    assert response.status_code == 200 and response.get_json()["status"] == "withdrawn"
    assert ids(get(client, auth(buyer), "/api/v1/leads")[1]) == [kept.id]
    assert get(client, auth(buyer), f"/api/v1/leads/{gone.id}")[0] == 404
    again = client.post(f"/api/v1/leads/{gone.id}/withdraw", headers=auth(seller))
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "lead_not_listed"
    assert _audited("lead.withdrawn") == 1


def test_a_new_price_applies_to_the_unsold_leads_only(client, seller, buyer, auth):
    unsold, sold = list_leads(seller, {}, {}, price_cents=1500)
    with transaction():
        db.session.execute(update(Lead).where(Lead.id == sold.id).values(sales_count=1))
    response = client.patch(
        f"/api/v1/batches/{unsold.batch_id}", json={"price_cents": 990}, headers=auth(seller)
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["price_cents"] == 990
    assert _lead(unsold.id).price_cents == 990
    assert _lead(sold.id).price_cents == 1500
    (item,) = get(client, auth(buyer), "/api/v1/leads")[1]["items"]
    assert item["price_cents"] == 990
    assert _audited("batch.repriced") == 1


def test_a_price_change_is_bounded_and_for_the_batchs_seller(client, seller, admin, auth):
    (lead,) = list_leads(seller, {})
    path = f"/api/v1/batches/{lead.batch_id}"
    for bad in ({"price_cents": 0}, {"price_cents": 1_000_001}, {"price_cents": "5"}, {}):
        assert client.patch(path, json=bad, headers=auth(seller)).status_code == 422, bad
    assert (
        client.patch(path, json={"price_cents": 5}, headers=auth(make_user("seller"))).status_code
        == 404
    )
    assert_forbidden(client.patch(path, json={"price_cents": 5}, headers=auth(admin)))
    client.post(f"{path}/withdraw", headers=auth(seller))
    closed = client.patch(path, json={"price_cents": 5}, headers=auth(seller))
    assert closed.status_code == 409 and closed.get_json()["error"]["code"] == "batch_closed"
    assert db.session.get(Batch, lead.batch_id).price_cents == 1500


def test_a_suppression_withdraws_the_persons_listed_leads(client, seller, buyer, admin, auth):
    person, other = list_leads(seller, {"email": "Never.Again@Example.com"}, {})
    response = client.post(
        "/api/v1/admin/suppressions",
        json={"email": "never.again@example.com", "reason": "Asked by phone."},
        headers=auth(admin),
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["kind"] == "email" and body["value"] == "never.again@example.com"
    assert _lead(person.id).status == "withdrawn"
    assert ids(get(client, auth(buyer), "/api/v1/leads")[1]) == [other.id]
    phone = client.post(
        "/api/v1/admin/suppressions", json={"phone": other.phone}, headers=auth(admin)
    )
    assert phone.status_code == 201 and _lead(other.id).status == "withdrawn"

    listed = get(client, auth(admin), "/api/v1/admin/suppressions")[1]
    assert [item["id"] for item in listed["items"]] == [phone.get_json()["id"], body["id"]]
    removed = client.delete(f"/api/v1/admin/suppressions/{body['id']}", headers=auth(admin))
    assert removed.status_code == 204
    assert db.session.get(Suppression, body["id"]) is None
    assert _lead(person.id).status == "withdrawn"  # removing the entry lists nobody again
    missing = client.delete(f"/api/v1/admin/suppressions/{body['id']}", headers=auth(admin))
    assert missing.status_code == 404


def test_the_suppression_list_is_for_admins_and_takes_one_value(client, seller, admin, auth):
    for user in (seller, make_user("buyer")):
        assert_forbidden(client.get("/api/v1/admin/suppressions", headers=auth(user)))
        assert_forbidden(
            client.post(
                "/api/v1/admin/suppressions", json={"email": "a@b.com"}, headers=auth(user)
            )
        )
    for bad in ({}, {"email": "a@example.com", "phone": "+14155550142"}, {"email": "nope"}):
        response = client.post("/api/v1/admin/suppressions", json=bad, headers=auth(admin))
        assert response.status_code == 422, bad
