"""Returning a bought lead: who may, when, how often; what the evidence decides; what an admin's
decision does to the money and the lead; the seller's answer."""

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from app.db import utcnow
from app.extensions import db
from app.notifications import Notification
from billing import ledger
from billing import services as billing_services
from billing.models import Sale
from marketplace.models import Lead
from marketplace.purchases.models import PurchasedLead
from tests.helpers import make_user
from tests.verification.disputes.flow import (
    bought_leads,
    dispute,
    money,
    purchased,
    resolve,
    set_settings,
)
from verification.disputes import services as dispute_services
from verification.disputes.models import Dispute

PRICE, FEE, SHARE = 1500, 300, 1200


def test_a_buyer_returns_a_bought_lead_once_and_its_sale_is_held(
    client, auth, buyer, seller, admin
):
    (lead,) = bought_leads(client, auth, buyer, seller, admin)
    response = dispute(client, auth, buyer, lead, note="Number belongs to a bakery")
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["status"] == "open" and body["resolution"] is None
    assert body["lead_id"] == lead.id and body["reason"] == "other"
    assert body["note"] == "Number belongs to a bakery"
    assert body["evidence"] == {"recheck": None, "duplicate": None, "consent": None}
    item = purchased(buyer, lead)
    assert body["purchase_id"] == item.purchase_id
    opened = utcnow()
    deadline = body["deadline"]
    assert deadline > (opened + timedelta(days=2, hours=23)).isoformat()
    assert db.session.get(Sale, item.sale_id).is_held is True
    # The bought-leads list shows the return.
    rows = client.get("/api/v1/purchased-leads", headers=auth(buyer)).get_json()["items"]
    assert rows[0]["dispute"] == {"id": body["id"], "status": "open"}

    again = dispute(client, auth, buyer, lead, reason="bad_phone")
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "already_disputed"
    assert db.session.scalar(select(Dispute.id).where(Dispute.lead_id == lead.id)) == body["id"]


def test_only_the_buyer_that_bought_it_may_return_a_lead(client, auth, buyer, seller, admin):
    (lead,) = bought_leads(client, auth, buyer, seller, admin)
    other = make_user("buyer")
    response = dispute(client, auth, other, lead)
    assert response.status_code == 404
    assert dispute(client, auth, seller, lead).status_code == 403
    assert dispute(client, auth, admin, lead).status_code == 403
    assert db.session.scalar(select(Dispute.id)) is None


@pytest.mark.parametrize(
    "payload",
    [
        {"reason": "bad_vibes", "note": "x"},
        {"reason": "other"},
        {"reason": "other", "note": ""},
        {"reason": "other", "note": "x" * 2001},
        {"reason": "other", "note": "x", "lead_id": "1"},
        {"reason": "other", "note": "x", "colour": "red"},
    ],
)
def test_a_malformed_return_is_422_and_writes_nothing(client, auth, buyer, seller, admin, payload):
    (lead,) = bought_leads(client, auth, buyer, seller, admin)
    body = {"lead_id": lead.id, **payload}
    response = client.post("/api/v1/disputes", json=body, headers=auth(buyer))
    assert response.status_code == 422, response.get_json()
    assert db.session.scalar(select(Dispute.id)) is None


def test_the_return_window_is_enforced_to_the_second(
    client, auth, buyer, seller, admin, monkeypatch
):
    first, second = bought_leads(client, auth, buyer, seller, admin, 2)
    deadline = purchased(buyer, first).return_deadline
    monkeypatch.setattr(dispute_services, "utcnow", lambda: deadline - timedelta(seconds=1))
    assert dispute(client, auth, buyer, first).status_code == 201
    monkeypatch.setattr(dispute_services, "utcnow", lambda: deadline)
    late = dispute(client, auth, buyer, second)
    assert late.status_code == 422
    error = late.get_json()["error"]
    assert error["code"] == "return_window_closed"
    assert (
        error["details"]["window_closed_at"]
        == purchased(buyer, second).return_deadline.isoformat()
    )
    assert db.session.scalar(select(Dispute.id).where(Dispute.lead_id == second.id)) is None


def test_a_return_racing_the_release_of_earnings_is_refused_and_leaves_nothing(
    client, auth, buyer, seller, admin, monkeypatch
):
    (lead,) = bought_leads(client, auth, buyer, seller, admin)
    item = purchased(buyer, lead)
    # The release ran at the deadline, a moment before the buyer's request got its hold.
    assert billing_services.release_earnings(now=item.return_deadline) == 1
    monkeypatch.setattr(
        dispute_services, "utcnow", lambda: item.return_deadline - timedelta(seconds=1)
    )
    response = dispute(client, auth, buyer, lead)
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "sale_released"
    assert db.session.scalar(select(Dispute.id)) is None
    assert purchased(buyer, lead).dispute_id is None
    assert db.session.get(Sale, item.sale_id).is_held is False


def test_the_share_of_returns_refuses_the_first_over_it_and_not_one_before(
    client, auth, buyer, seller, admin
):
    leads = bought_leads(client, auth, buyer, seller, admin, 8)  # 25% of 8 = 2
    assert dispute(client, auth, buyer, leads[0]).status_code == 201
    assert dispute(client, auth, buyer, leads[1]).status_code == 201
    refused = dispute(client, auth, buyer, leads[2])
    assert refused.status_code == 422
    error = refused.get_json()["error"]
    assert error["code"] == "dispute_limit_reached"
    assert "2 of the 8 leads" in error["message"] and "25%" in error["message"]
    assert db.session.scalar(select(Dispute.id).where(Dispute.lead_id == leads[2].id)) is None


def test_one_return_is_always_allowed(client, auth, buyer, seller, admin):
    set_settings(buyer_dispute_limit_pct=0)
    first, second = bought_leads(client, auth, buyer, seller, admin, 2)
    assert dispute(client, auth, buyer, first).status_code == 201
    assert dispute(client, auth, buyer, second).get_json()["error"]["code"] == (
        "dispute_limit_reached"
    )


# --- automatic evidence --------------------------------------------------------------------------


def test_an_invalid_phone_is_accepted_at_once_and_the_money_goes_back(
    client, auth, buyer, seller, admin
):
    (lead,) = bought_leads(client, auth, buyer, seller, admin)
    before = money(buyer, seller)
    # Today the stored number no longer parses as a valid US number.
    db.session.execute(update(Lead).where(Lead.id == lead.id).values(phone="+1555000"))
    db.session.commit()
    response = dispute(client, auth, buyer, lead, reason="bad_phone")
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["status"] == "accepted" and body["resolution"] == "automatic"
    assert body["resolved_at"] and body["resolution_note"]
    codes = [check["code"] for check in body["evidence"]["recheck"]["checks"]]
    assert "invalid_phone" in codes and body["evidence"]["recheck"]["ok"] is False
    after = money(buyer, seller)
    assert after == {
        "wallet": before["wallet"] + PRICE,
        "pending": before["pending"] - SHARE,
        "revenue": before["revenue"] - FEE,
    }
    assert ledger.check() == []
    db.session.expire_all()
    flagged = db.session.get(Lead, lead.id)
    assert flagged.flagged_field == "phone" and flagged.status == "defective"
    assert client.get("/api/v1/purchased-leads", headers=auth(buyer)).get_json()["items"][0][
        "dispute"
    ] == {"id": body["id"], "status": "accepted"}


def test_a_valid_phone_leaves_the_dispute_open(client, auth, buyer, seller, admin):
    (lead,) = bought_leads(client, auth, buyer, seller, admin)
    before = money(buyer, seller)
    body = dispute(client, auth, buyer, lead, reason="bad_phone").get_json()
    assert body["status"] == "open" and body["evidence"]["recheck"]["ok"] is True
    assert money(buyer, seller) == before


def test_a_lead_merely_old_is_not_proved_bad(client, auth, buyer, seller, admin):
    (lead,) = bought_leads(client, auth, buyer, seller, admin)
    long_ago = timedelta(days=400)
    db.session.execute(
        update(Lead)
        .where(Lead.id == lead.id)
        .values(captured_at=lead.captured_at - long_ago, consented_at=lead.consented_at - long_ago)
    )
    db.session.commit()
    body = dispute(client, auth, buyer, lead, reason="bad_phone").get_json()
    recheck = body["evidence"]["recheck"]
    assert recheck["ok"] is False and [c["code"] for c in recheck["checks"]] == ["too_old"]
    assert body["status"] == "open"


def test_an_undeliverable_email_is_proved_through_the_configured_check(
    app, client, auth, buyer, seller, admin, monkeypatch
):
    (lead,) = bought_leads(client, auth, buyer, seller, admin)
    bad = lead.email
    monkeypatch.setitem(app.config, "EMAIL_DELIVERABILITY_CHECK", lambda email: email != bad)
    body = dispute(client, auth, buyer, lead, reason="bad_email").get_json()
    assert body["status"] == "accepted" and body["resolution"] == "automatic"
    db.session.expire_all()
    assert db.session.get(Lead, lead.id).flagged_field == "email"


def test_a_true_duplicate_is_accepted_and_names_only_the_matching_field(
    client, auth, buyer, seller, admin
):
    set_settings(buyer_dispute_limit_pct=100)
    first, second = bought_leads(client, auth, buyer, seller, admin, 2)
    # The same person under a second lead (a seller's copy that slipped past de-duplication).
    db.session.execute(update(Lead).where(Lead.id == second.id).values(email=first.email))
    db.session.commit()
    body = dispute(client, auth, buyer, second, reason="duplicate").get_json()
    assert body["status"] == "accepted" and body["resolution"] == "automatic"
    assert set(body["evidence"]["duplicate"]) == {"matched", "purchased_at"}
    assert body["evidence"]["duplicate"]["matched"] == "email"
    seen = client.get(f"/api/v1/disputes/{body['id']}", headers=auth(seller)).get_json()
    # The seller reads which field matched, never when, the other lead or its seller.
    assert seen["evidence"]["duplicate"] == {"matched": "email"}
    assert seen["lead_id"] == second.id and first.email not in str(seen)
    db.session.expire_all()
    assert db.session.get(Lead, second.id).status == "withdrawn"
    # The first lead, returned as a duplicate, has no earlier sale of the person: stays open.
    assert dispute(client, auth, buyer, first, reason="duplicate").get_json()["status"] == "open"


def test_no_consent_shows_the_consent_record(client, auth, buyer, seller, admin):
    (lead,) = bought_leads(client, auth, buyer, seller, admin)
    body = dispute(client, auth, buyer, lead, reason="no_consent").get_json()
    consent = body["evidence"]["consent"]
    assert consent["text"] == lead.consent_text and consent["ip"] == lead.consent_ip
    assert body["status"] == "open"


# --- admin resolution ----------------------------------------------------------------------------


def test_accepting_moves_exactly_the_price_back_once(client, auth, buyer, seller, admin):
    (lead,) = bought_leads(client, auth, buyer, seller, admin)
    opened = dispute(client, auth, buyer, lead, reason="fake_info").get_json()
    before = money(buyer, seller)
    response = resolve(client, auth, admin, opened["id"], note="The name is invented")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["status"] == "accepted" and body["resolution"] == "admin"
    assert body["resolution_note"] == "The name is invented" and body["resolved_at"]
    assert money(buyer, seller) == {
        "wallet": before["wallet"] + PRICE,
        "pending": before["pending"] - SHARE,
        "revenue": before["revenue"] - FEE,
    }
    assert ledger.check() == []
    again = resolve(client, auth, admin, opened["id"], decision="reject")
    assert again.status_code == 409
    assert again.get_json()["error"]["code"] == "dispute_already_resolved"
    assert money(buyer, seller)["wallet"] == before["wallet"] + PRICE
    db.session.expire_all()
    assert db.session.get(Lead, lead.id).status == "withdrawn"


def test_rejecting_lifts_the_hold_so_the_seller_is_paid_at_the_deadline(
    client, auth, buyer, seller, admin
):
    (lead,) = bought_leads(client, auth, buyer, seller, admin)
    opened = dispute(client, auth, buyer, lead).get_json()
    item = purchased(buyer, lead)
    assert billing_services.release_earnings(now=item.return_deadline) == 0  # held
    body = resolve(client, auth, admin, opened["id"], decision="reject", note="Lead is fine")
    assert body.get_json()["status"] == "rejected"
    assert db.session.get(Sale, item.sale_id).is_held is False
    assert billing_services.release_earnings(now=item.return_deadline) == 1
    assert ledger.check() == []


def test_a_misqualified_lead_is_rescored_with_the_admins_answers(
    client, auth, buyer, seller, admin
):
    (lead,) = bought_leads(
        client, auth, buyer, seller, admin,
        has_budget="yes", is_decision_maker="yes", need="Lower bills", timeline="immediate",
    )  # fmt: skip
    claimed_met, claimed_score = lead.bant_met, lead.score
    assert claimed_met == 4
    opened = dispute(client, auth, buyer, lead, reason="misqualified").get_json()
    missing = resolve(client, auth, admin, opened["id"])
    assert missing.status_code == 422
    assert db.session.get(Dispute, opened["id"]).status == "open"
    answers = {"budget": False, "authority": False, "need": False, "timing": False}
    response = resolve(client, auth, admin, opened["id"], answers=answers)
    assert response.status_code == 200, response.get_json()
    db.session.expire_all()
    rescored = db.session.get(Lead, lead.id)
    assert rescored.bant_met == 0 and rescored.score < claimed_score


def test_answers_only_go_with_accepting_misqualified(client, auth, buyer, seller, admin):
    (lead,) = bought_leads(client, auth, buyer, seller, admin)
    opened = dispute(client, auth, buyer, lead, reason="other").get_json()
    answers = {"budget": True, "authority": True, "need": True, "timing": True}
    assert resolve(client, auth, admin, opened["id"], answers=answers).status_code == 422
    assert (
        resolve(client, auth, admin, opened["id"], decision="reject", answers=answers).status_code
        == 422
    )
    assert db.session.get(Dispute, opened["id"]).status == "open"


def test_only_admins_resolve(client, auth, buyer, seller, admin):
    (lead,) = bought_leads(client, auth, buyer, seller, admin)
    opened = dispute(client, auth, buyer, lead).get_json()
    for user in (buyer, seller):
        assert resolve(client, auth, user, opened["id"]).status_code == 403
    assert resolve(client, auth, admin, 10**9).status_code == 404
    assert db.session.get(Dispute, opened["id"]).status == "open"


def test_the_same_resolution_sent_twice_with_a_key_answers_once(
    client, auth, buyer, seller, admin
):
    (lead,) = bought_leads(client, auth, buyer, seller, admin)
    opened = dispute(client, auth, buyer, lead).get_json()
    before = money(buyer, seller)
    headers = {**auth(admin), "Idempotency-Key": "resolve-1"}
    body = {"decision": "accept", "note": "ok"}
    url = f"/api/v1/disputes/{opened['id']}/resolution"
    first = client.post(url, json=body, headers=headers)
    second = client.post(url, json=body, headers=headers)
    assert first.status_code == second.status_code == 200
    assert first.get_json() == second.get_json()
    assert money(buyer, seller)["wallet"] == before["wallet"] + PRICE


# --- the seller's answer -------------------------------------------------------------------------


def test_the_seller_answers_until_the_deadline_and_not_after(
    client, auth, buyer, seller, admin, monkeypatch
):
    set_settings(buyer_dispute_limit_pct=100)
    first, second = bought_leads(client, auth, buyer, seller, admin, 2)
    opened = dispute(client, auth, buyer, first).get_json()
    url = f"/api/v1/disputes/{opened['id']}/responses"
    answer = client.post(url, json={"note": "Called them today"}, headers=auth(seller))
    assert answer.status_code == 201 and answer.get_json()["note"] == "Called them today"
    seen = client.get(f"/api/v1/disputes/{opened['id']}", headers=auth(buyer)).get_json()
    assert [r["note"] for r in seen["responses"]] == ["Called them today"]

    other_seller = make_user("seller")
    assert client.post(url, json={"note": "x"}, headers=auth(other_seller)).status_code == 404
    assert client.post(url, json={"note": "x"}, headers=auth(buyer)).status_code == 403

    deadline = db.session.get(Dispute, opened["id"]).deadline
    monkeypatch.setattr(dispute_services, "utcnow", lambda: deadline)
    late = client.post(url, json={"note": "Too late"}, headers=auth(seller))
    assert late.status_code == 409
    assert late.get_json()["error"]["code"] == "response_window_closed"

    monkeypatch.undo()
    closed = dispute(client, auth, buyer, second).get_json()
    resolve(client, auth, admin, closed["id"], decision="reject")
    after = client.post(
        f"/api/v1/disputes/{closed['id']}/responses", json={"note": "x"}, headers=auth(seller)
    )
    assert after.get_json()["error"]["code"] == "response_window_closed"


def test_each_party_sees_only_its_disputes(client, auth, buyer, seller, admin):
    (lead,) = bought_leads(client, auth, buyer, seller, admin)
    opened = dispute(client, auth, buyer, lead).get_json()
    outsiders = (make_user("buyer"), make_user("seller"))
    for user in (buyer, seller, admin):
        listed = client.get("/api/v1/disputes", headers=auth(user)).get_json()["items"]
        assert [d["id"] for d in listed] == [opened["id"]]
        assert (
            client.get(f"/api/v1/disputes/{opened['id']}", headers=auth(user)).status_code == 200
        )
    for user in outsiders:
        assert client.get("/api/v1/disputes", headers=auth(user)).get_json()["items"] == []
        assert (
            client.get(f"/api/v1/disputes/{opened['id']}", headers=auth(user)).status_code == 404
        )
    closed = client.get("/api/v1/disputes?status=accepted", headers=auth(admin)).get_json()
    assert closed["items"] == []
    assert client.get("/api/v1/disputes?status=maybe", headers=auth(admin)).status_code == 422


def test_the_purchased_lead_row_and_dispute_agree(client, auth, buyer, seller, admin):
    (lead,) = bought_leads(client, auth, buyer, seller, admin)
    opened = dispute(client, auth, buyer, lead).get_json()
    resolve(client, auth, admin, opened["id"], decision="reject")
    row = db.session.scalar(select(PurchasedLead).where(PurchasedLead.lead_id == lead.id))
    db.session.refresh(row)
    assert (row.dispute_id, row.dispute_status) == (opened["id"], "rejected")


def test_each_step_notifies_the_other_party_with_a_link(client, auth, buyer, seller, admin):
    def inbox(user):
        db.session.expire_all()
        return [
            (n.kind, n.link)
            for n in db.session.scalars(
                select(Notification)
                .where(Notification.organization_id == user.organization_id)
                .order_by(Notification.id)
            )
        ]

    (lead,) = bought_leads(client, auth, buyer, seller, admin)
    opened = dispute(client, auth, buyer, lead).get_json()
    number = opened["id"]
    assert inbox(seller) == [("dispute_opened", f"/seller/disputes/{number}")]
    client.post(
        f"/api/v1/disputes/{number}/responses", json={"note": "Valid"}, headers=auth(seller)
    )
    assert inbox(buyer) == [("dispute_answered", f"/buyer/disputes/{number}")]
    resolve(client, auth, admin, number, decision="reject")
    assert inbox(buyer)[-1] == ("dispute_rejected", f"/buyer/disputes/{number}")
    assert inbox(seller)[-1] == ("dispute_rejected", f"/seller/disputes/{number}")
    # A refused request notifies nobody.
    resolve(client, auth, admin, number)
    assert len(inbox(seller)) == 2 and len(inbox(buyer)) == 2
    texts = " ".join(n.message for n in db.session.scalars(select(Notification)))
    assert lead.email not in texts and lead.phone not in texts
