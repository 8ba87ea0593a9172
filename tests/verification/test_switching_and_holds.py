"""ISO 2859-1 switching per seller, holds (automatic, by admins, for disputes) and clearing."""

from sqlalchemy import select

from app.auth.models import AuditEntry
from app.extensions import db
from marketplace.models import Lead, SellerAccount
from tests.helpers import assert_forbidden
from tests.verification.flow import (
    fail_batch,
    items,
    lead_statuses,
    pass_batch,
    spot_check,
    upload,
)
from verification import services


def account(seller) -> SellerAccount:
    db.session.expire_all()
    return db.session.get(SellerAccount, seller.organization_id)


def audits(action: str, seller) -> list[AuditEntry]:
    return list(
        db.session.scalars(
            select(AuditEntry)
            .where(
                AuditEntry.action == action, AuditEntry.object_id == str(seller.organization_id)
            )
            .order_by(AuditEntry.id)
        )
    )


def paused_and_listed(seller) -> tuple[int, int]:
    listed = list(
        db.session.scalars(
            select(Lead.is_paused).where(
                Lead.seller_id == seller.organization_id, Lead.status == "listed"
            )
        )
    )
    return sum(listed), len(listed)


# (accepted?, level after the decision, on hold after the decision)
SCRIPT = [
    (True, "normal", False),
    (False, "normal", False),
    (False, "tightened", False),  # 2 rejected out of the last 3 on normal
    *[(True, "tightened", False)] * 4,
    (True, "normal", False),  # 5 accepted in a row on tightened
    *[(True, "normal", False)] * 9,
    (True, "reduced", False),  # 10 accepted in a row on normal
    (True, "reduced", False),
    (False, "normal", False),  # any rejection on reduced
    (True, "normal", False),
    (False, "normal", False),
    (False, "tightened", False),
    (False, "tightened", False),  # rejections on tightened count in total, not in a row
    (True, "tightened", False),
    (False, "tightened", False),
    (False, "tightened", False),
    (False, "tightened", False),
    (False, "tightened", True),  # the fifth rejection on tightened: hold
]


def test_scripted_outcomes_move_a_seller_through_every_level_and_onto_hold(seller, admin):
    level = "normal"
    for step, (accepted, expected_level, expected_hold) in enumerate(SCRIPT, start=1):
        batch = upload(seller, 2)
        assert batch.status == "spot_check", step
        # Each batch is sampled on the level the seller is on when it arrives.
        assert spot_check(batch.id).inspection_level == level, step
        batch = pass_batch(admin, batch.id) if accepted else fail_batch(admin, batch.id)
        assert batch.status == ("listed" if accepted else "rejected"), step
        state = account(seller)
        assert (state.inspection_level, state.is_on_hold) == (expected_level, expected_hold), step
        level = expected_level

    changes = [
        (a.details["from"], a.details["to"])
        for a in audits("seller.inspection_level_changed", seller)
    ]
    assert changes == [
        ("normal", "tightened"),
        ("tightened", "normal"),
        ("normal", "reduced"),
        ("reduced", "normal"),
        ("normal", "tightened"),
    ]
    (hold,) = audits("seller.hold_set", seller)
    assert hold.actor_user_id is None and hold.details["cause"] == "tightened_rejections"

    # On hold: every listed lead is paused (off the market, still listed) ...
    paused, listed = paused_and_listed(seller)
    assert listed > 0 and paused == listed
    # ... and a new batch stops after intake, unsampled.
    held = upload(seller, 2)
    assert held.status == "held" and spot_check(held.id) is None

    services.clear_hold(actor=admin, seller_id=seller.organization_id, note="Called them.")
    state = account(seller)
    assert (state.is_on_hold, state.inspection_level) == (False, "tightened")
    assert state.inspection_state["rejected_while_tightened"] == 0
    assert paused_and_listed(seller) == (0, listed)
    check = spot_check(held.id)
    assert check is not None and check.inspection_level == "tightened"
    assert len(items(held.id)) == 2
    (cleared,) = audits("seller.hold_cleared", seller)
    assert cleared.actor_user_id == admin.id and cleared.details["note"] == "Called them."
    assert cleared.details["released_batches"] == [held.id]


def test_admin_hold_and_clear_through_the_api(client, seller, admin, buyer, auth):
    seller_id = seller.organization_id
    listed = upload(seller, 3)
    pass_batch(admin, listed.id)
    headers = auth(admin)
    url = f"/api/v1/admin/sellers/{seller_id}/hold"

    for body in ({}, {"note": ""}, {"note": "   "}):
        response = client.post(url, headers=headers, json=body)
        assert response.status_code == 422, body
        assert "note" in response.get_json()["error"]["details"]
    assert_forbidden(client.post(url, headers=auth(seller), json={"note": "x"}))
    assert_forbidden(client.post(url, headers=auth(buyer), json={"note": "x"}))
    assert not account(seller).is_on_hold

    response = client.post(url, headers=headers, json={"note": "Complaints from buyers."})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["id"] == seller_id and body["status"] == "on_hold"
    assert client.post(url, headers=headers, json={"note": "again"}).status_code == 409
    assert paused_and_listed(seller) == (3, 3)
    (hold,) = audits("seller.hold_set", seller)
    assert hold.actor_user_id == admin.id and hold.details["note"] == "Complaints from buyers."

    held = upload(seller, 4)
    assert held.status == "held"
    assert lead_statuses(held.id) == {"pending": 4}

    assert client.delete(url, headers=headers, json={}).status_code == 422
    assert account(seller).is_on_hold
    response = client.delete(url, headers=headers, json={"note": "Sorted out by phone."})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == "active"
    assert response.get_json()["inspection_level"] == "tightened"
    assert client.delete(url, headers=headers, json={"note": "again"}).status_code == 409
    assert paused_and_listed(seller) == (0, 3)
    db.session.expire_all()
    assert spot_check(held.id) is not None
    assert [a.details["note"] for a in audits("seller.hold_cleared", seller)] == [
        "Sorted out by phone."
    ]
    assert (
        client.post(
            "/api/v1/admin/sellers/999999/hold", headers=headers, json={"note": "x"}
        ).status_code
        == 404
    )


def test_a_batch_in_spot_check_when_the_hold_starts_is_listed_paused(seller, admin):
    batch = upload(seller, 3)
    services.hold_seller(actor=admin, seller_id=seller.organization_id, note="Investigating.")
    batch = pass_batch(admin, batch.id)
    assert batch.status == "listed"
    assert paused_and_listed(seller) == (3, 3)
    # Decisions while on hold do not move the switching state.
    assert account(seller).inspection_level == "normal"


def test_too_many_upheld_disputes_put_a_seller_on_hold(seller, admin):
    seller_id = seller.organization_id
    # 3 upheld of 100 sold: the rate may well be under 10% (lower bound about 1%).
    assert services.check_dispute_hold(seller_id=seller_id, upheld=3, sold=100) is False
    # 10 of 100: 10% is inside the range, not clearly over it.
    assert services.check_dispute_hold(seller_id=seller_id, upheld=10, sold=100) is False
    assert not getattr(account(seller), "is_on_hold", False)
    # 30 of 100: even the lower bound (about 21.9%) is over the 10% limit.
    assert services.check_dispute_hold(seller_id=seller_id, upheld=30, sold=100) is True
    state = account(seller)
    assert state.is_on_hold and "30 of 100" in state.hold_reason
    (hold,) = audits("seller.hold_set", seller)
    assert hold.details["cause"] == "disputes" and hold.actor_user_id is None
    # Already on hold: nothing more to do.
    assert services.check_dispute_hold(seller_id=seller_id, upheld=40, sold=100) is False
    # With no counts given it reads the seller's figures: no disputes exist yet.
    services.clear_hold(actor=admin, seller_id=seller_id, note="Disputes reviewed.")
    assert services.check_dispute_hold(seller_id=seller_id) is False


def test_the_dispute_limit_is_the_platform_setting(seller):
    from app.settings import get_settings

    settings = get_settings()
    settings.upheld_dispute_limit_pct = 30
    db.session.commit()
    assert (
        services.check_dispute_hold(seller_id=seller.organization_id, upheld=30, sold=100) is False
    )
