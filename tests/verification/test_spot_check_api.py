"""The spot-check queue API and the re-check API: admins only, full leads, the call script."""

from sqlalchemy import select, update

from app.extensions import db
from marketplace.models import Lead, Vertical
from marketplace.services import add_suppression
from tests.helpers import assert_forbidden, make_user
from tests.verification.flow import items, upload


def test_sellers_and_buyers_cannot_see_or_use_the_queue(client, seller, buyer, admin, auth):
    batch = upload(seller, 5)
    item = items(batch.id)[0]
    for user in (seller, buyer):
        headers = auth(user)
        assert_forbidden(client.get("/api/v1/spot-checks", headers=headers))
        response = client.post(
            f"/api/v1/spot-checks/{item.id}", headers=headers, json={"outcome": "confirmed"}
        )
        assert_forbidden(response)
    assert client.get("/api/v1/spot-checks").status_code == 401
    assert client.get("/api/v1/spot-checks", headers=auth(admin)).status_code == 200
    db.session.expire_all()
    assert items(batch.id)[0].status == "pending"


def test_the_queue_lists_full_leads_with_a_script_oldest_batch_first(client, admin, auth):
    first_seller = make_user("seller", email="first@example.com", org="First Leads")
    second_seller = make_user("seller", email="second@example.com", org="Second Leads")
    older = upload(first_seller, 8, vertical="home-insurance")
    newer = upload(second_seller, 3)
    headers = auth(admin)

    body = client.get("/api/v1/spot-checks?status=pending", headers=headers).get_json()
    got = body["items"]
    assert [i["batch_id"] for i in got] == [older.id] * 5 + [newer.id] * 3
    assert body["next_cursor"] is None
    item = got[0]
    assert set(item) >= {
        "id",
        "batch_id",
        "lead_id",
        "status",
        "lead",
        "script",
        "outcome",
        "note",
        "inspected_at",
    }
    lead = db.session.get(Lead, item["lead_id"])
    assert item["lead"]["contact"]["email"] == lead.email
    assert item["lead"]["contact"]["phone"] == lead.phone
    assert item["lead"]["id"] == lead.id and item["status"] == "pending"
    captured = lead.captured_at
    vertical = db.session.get(Vertical, lead.vertical_id)
    assert item["script"] == [
        f"Did you ask to be contacted about {vertical.name} around "
        f"{captured.day} {captured:%B %Y}?",
        "What are you looking to solve?",
        "When do you plan to decide?",
    ]
    assert (item["outcome"], item["note"], item["inspected_at"]) == (None, None, None)

    # Paging keeps the order.
    page = client.get("/api/v1/spot-checks?limit=3", headers=headers).get_json()
    rest = client.get(
        f"/api/v1/spot-checks?limit=10&cursor={page['next_cursor']}", headers=headers
    ).get_json()
    assert [i["id"] for i in page["items"] + rest["items"]] == [i["id"] for i in got]

    # Filters: one batch; done items carry their outcome.
    only = client.get(f"/api/v1/spot-checks?batch_id={newer.id}", headers=headers).get_json()
    assert {i["batch_id"] for i in only["items"]} == {newer.id}
    recorded = client.post(
        f"/api/v1/spot-checks/{got[0]['id']}",
        headers=headers,
        json={"outcome": "unreachable", "note": "Voicemail twice."},
    )
    assert recorded.status_code == 200
    result = recorded.get_json()
    assert result["item"]["status"] == "done" and result["item"]["outcome"] == "unreachable"
    assert result["item"]["inspected_at"] is not None
    assert result["batch"]["id"] == older.id
    assert result["batch"]["spot_check"] == {
        "sample_size": 5,
        "accept_number": 0,
        "reject_number": 1,
        "inspected": 1,
        "defects": 1,
        "decision": "rejected",
    }
    assert result["batch"]["status"] == "rejected"
    done = client.get("/api/v1/spot-checks?status=done", headers=headers).get_json()["items"]
    assert [(i["id"], i["note"]) for i in done] == [(got[0]["id"], "Voicemail twice.")]
    pending = client.get("/api/v1/spot-checks?status=pending", headers=headers).get_json()
    assert {i["batch_id"] for i in pending["items"]} == {newer.id}

    for bad in ("status=open", "batch_id=x", "colour=red", "limit=0"):
        assert client.get(f"/api/v1/spot-checks?{bad}", headers=headers).status_code == 422
    assert (
        client.post(
            "/api/v1/spot-checks/999999", headers=headers, json={"outcome": "confirmed"}
        ).status_code
        == 404
    )


def test_recheck_runs_the_checks_again_and_says_what_changed(client, seller, admin, auth):
    batch = upload(seller, 2)
    lead = db.session.scalar(select(Lead).where(Lead.batch_id == batch.id).limit(1))
    lead_id = lead.id
    headers = auth(admin)

    clean = client.post(f"/api/v1/admin/leads/{lead_id}/recheck", headers=headers)
    assert clean.status_code == 200
    assert clean.get_json() == {"lead_id": lead_id, "ok": True, "changed": {}, "checks": []}

    # What intake stored is now out of date, and the person has asked never to be sold.
    db.session.execute(update(Lead).where(Lead.id == lead_id).values(phone_type="unknown"))
    db.session.commit()
    add_suppression(actor=admin, email=lead.email, reason="Asked by email.")
    body = client.post(f"/api/v1/admin/leads/{lead_id}/recheck", headers=headers).get_json()
    assert body["ok"] is False
    assert body["changed"]["phone_type"]["before"] == "unknown"
    assert body["changed"]["phone_type"]["after"] in (
        "fixed_line_or_mobile",
        "mobile",
        "fixed_line",
    )
    assert [(c["field"], c["code"]) for c in body["checks"]] == [("email", "suppressed")]
    # The re-check reports; it does not change the lead.
    db.session.expire_all()
    assert db.session.get(Lead, lead_id).phone_type == "unknown"

    assert client.post("/api/v1/admin/leads/999999/recheck", headers=headers).status_code == 404
    assert (
        client.post(f"/api/v1/admin/leads/{lead_id}/recheck", headers=auth(seller)).status_code
        == 403
    )
