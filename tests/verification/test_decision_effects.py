"""What a decision changes, and that nothing the seller sees changes before it."""

from sqlalchemy import func, select

from app.extensions import db
from marketplace import services as market_services
from marketplace.models import BatchRejection, Lead, Suppression
from tests.verification.flow import items, record, spot_check, upload

QUALIFIED = {
    "has_budget": "yes",
    "is_decision_maker": "yes",
    "need": "Lower energy bills",
    "timeline": "1-3_months",
}
NOT_QUALIFIED = {"budget": False, "authority": False, "need": False, "timing": False}


def seller_view(client, headers, batch_id) -> list[dict]:
    response = client.get(f"/api/v1/batches/{batch_id}/leads?limit=500", headers=headers)
    assert response.status_code == 200
    return response.get_json()["items"]


def test_the_seller_cannot_tell_which_leads_were_sampled_before_the_decision(
    client, seller, admin, auth
):
    batch = upload(seller, 90, **QUALIFIED)
    check = spot_check(batch.id)
    assert (check.sample_size, check.accept_number, check.reject_number) == (20, 1, 2)
    headers = auth(seller)
    before = seller_view(client, headers, batch.id)
    assert {lead["status"] for lead in before} == {"pending"}
    sample = items(batch.id)
    misqualified = sample[0].lead_id

    record(admin, sample[0], "misqualified", answers=NOT_QUALIFIED, note="No budget at all.")
    assert seller_view(client, headers, batch.id) == before
    for item in sample[1:-1]:
        record(admin, item)
    # 19 of 20 called, one misqualified: the seller's leads read exactly as before.
    assert seller_view(client, headers, batch.id) == before
    assert "sampled" not in str(before[0]).lower()

    assert record(admin, sample[-1]).status == "listed"
    after = {lead["id"]: lead for lead in seller_view(client, headers, batch.id)}
    old = {lead["id"]: lead for lead in before}[misqualified]
    new = after[misqualified]
    # Re-scored with what the person said, and kept off sale.
    assert old["qualification"]["bant"] == {
        "budget": True,
        "authority": True,
        "need": True,
        "timing": True,
        "met": 4,
    }
    assert new["qualification"]["bant"] == {
        "budget": False,
        "authority": False,
        "need": False,
        "timing": False,
        "met": 0,
    }
    assert new["qualification"]["score"] == old["qualification"]["score"] - 40
    assert (old["qualification"]["stage"], new["qualification"]["stage"]) == (
        "SQL",
        "unqualified",
    )
    assert new["status"] == "defective"
    assert {lead["status"] for i, lead in after.items() if i != misqualified} == {"listed"}
    # The others keep the seller's answers.
    other = next(i for i in after if i != misqualified)
    assert after[other]["qualification"]["bant"]["met"] == 4


def test_a_person_who_denies_asking_is_suppressed_when_the_batch_is_decided(seller, admin):
    batch = upload(seller, 90)
    sample = items(batch.id)
    denied = db.session.get(Lead, sample[0].lead_id)
    email, phone = denied.email, denied.phone

    record(admin, sample[0], "denied_request", note="Never heard of it.")
    assert db.session.scalar(select(func.count()).select_from(Suppression)) == 0
    assert record(admin, sample[1], "unreachable").status == "rejected"

    suppressed = set(db.session.execute(select(Suppression.kind, Suppression.value)).all())
    assert suppressed == {("email", email), ("phone", phone)}

    # The person is refused by the automatic checks from now on, from any seller.
    again = upload(seller, 1, email=email, phone=phone)
    codes = set(
        db.session.scalars(select(BatchRejection.code).where(BatchRejection.batch_id == again.id))
    )
    assert again.accepted_count == 0 and "suppressed" in codes


def test_answers_are_required_for_misqualified_and_only_for_it(client, seller, admin, auth):
    batch = upload(seller, 10)
    item = items(batch.id)[0]
    url = f"/api/v1/spot-checks/{item.id}"
    headers = auth(admin)
    for body in (
        {"outcome": "misqualified"},
        {"outcome": "misqualified", "answers": {"budget": True}},
        {"outcome": "misqualified", "answers": {**NOT_QUALIFIED, "need": "yes"}},
        {"outcome": "confirmed", "answers": NOT_QUALIFIED},
        {"outcome": "maybe"},
        {},
    ):
        response = client.post(url, headers=headers, json=body)
        assert response.status_code == 422, body
    assert spot_check(batch.id).inspected == 0
    response = client.post(
        url, headers=headers, json={"outcome": "misqualified", "answers": NOT_QUALIFIED}
    )
    assert response.status_code == 200
    assert response.get_json()["item"]["answers"] == NOT_QUALIFIED


def test_listing_is_only_for_a_batch_in_spot_check(seller, admin):
    """The market's listing guard: a held batch cannot be listed around its spot-check."""
    from app.errors import Conflict
    from verification import services

    services.hold_seller(actor=admin, seller_id=seller.organization_id, note="Wait.")
    batch = upload(seller, 5)
    try:
        market_services.list_batch(batch_id=batch.id)
    except Conflict:
        db.session.rollback()
    else:
        raise AssertionError("a held batch was listed")
    assert (
        db.session.scalar(
            select(func.count()).where(Lead.batch_id == batch.id, Lead.status == "listed")
        )
        == 0
    )
