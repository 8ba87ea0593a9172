"""Sampling a batch and deciding it: ISO 2859-1 plans, a recorded seed, accept and reject."""

import pytest
from sqlalchemy import func, select

from app.auth.models import AuditEntry
from app.errors import Conflict
from app.extensions import db
from marketplace import services as market_services
from marketplace.models import Batch, Lead
from tests.verification.flow import items, lead_statuses, record, spot_check, upload
from verification import services
from verification.models import SpotCheckItem
from verification.rules.sampling import draw_sample

SEED = 20261123


@pytest.fixture
def seeded(monkeypatch):
    """Every draw in the test uses a known seed."""
    monkeypatch.setattr(services, "new_seed", lambda: SEED)
    return SEED


def lead_ids(batch_id):
    return list(db.session.scalars(select(Lead.id).where(Lead.batch_id == batch_id)))


def test_a_batch_of_1000_is_sampled_by_the_standard_with_a_reproducible_seed(
    seller, seeded, runner
):
    batch = upload(seller, 1000)
    assert batch.status == "spot_check" and batch.accepted_count == 1000
    check = spot_check(batch.id)
    # ISO 2859-1, level II, lot 501-1200 is J; AQL 2.5 normal: n = 80, Ac 5, Re 6.
    assert (check.inspection_level, check.aql, check.lot_size, check.code_letter) == (
        "normal",
        2.5,
        1000,
        "J",
    )
    assert (check.sample_size, check.accept_number, check.reject_number) == (80, 5, 6)
    assert check.seed == SEED and check.whole_lot is False and check.decision is None

    sampled = [item.lead_id for item in items(batch.id)]
    assert len(sampled) == 80 and all(i.status == "pending" for i in items(batch.id))
    # The recorded seed reproduces the sample from the batch's leads alone.
    assert draw_sample(lead_ids(batch.id), 80, seed=check.seed) == sorted(sampled)
    result = runner.invoke(args=["verification", "verify-sample", str(batch.id)])
    assert result.exit_code == 0, result.output
    assert f"seed {SEED} reproduces the 80 sampled leads" in result.output

    # The plan is kept with the batch for the seller to see, without the seed.
    spot = {
        k: batch.decision[k]
        for k in (
            "sample_size",
            "accept_number",
            "reject_number",
            "inspected",
            "defects",
            "decision",
        )
    }
    assert spot == {
        "sample_size": 80,
        "accept_number": 5,
        "reject_number": 6,
        "inspected": 0,
        "defects": 0,
        "decision": None,
    }
    assert batch.decision["code_letter"] == "J" and "seed" not in batch.decision
    assert lead_statuses(batch.id) == {"pending": 1000}


def test_defects_up_to_the_accept_number_then_confirmations_list_the_batch(seller, admin, seeded):
    batch = upload(seller, 1000)
    sample = items(batch.id)
    defects = ["wrong_contact", "unreachable", "fake", "refused", "unreachable"]
    for item, outcome in zip(sample[:5], defects, strict=True):
        assert record(admin, item, outcome).status == "spot_check"
    for item in sample[5:-1]:
        assert record(admin, item).status == "spot_check"
    batch = record(admin, sample[-1])

    assert batch.status == "listed"
    assert {k: batch.decision[k] for k in ("inspected", "defects", "decision")} == {
        "inspected": 80,
        "defects": 5,
        "decision": "accepted",
    }
    # The five leads found defective stay off sale; every other lead is listed.
    assert lead_statuses(batch.id) == {"listed": 995, "defective": 5}
    defective = set(
        db.session.scalars(
            select(Lead.id).where(Lead.batch_id == batch.id, Lead.status == "defective")
        )
    )
    assert defective == {item.lead_id for item in sample[:5]}
    assert (
        db.session.scalar(
            select(func.count()).where(
                Lead.batch_id == batch.id, Lead.listed_at.is_(None), Lead.status == "listed"
            )
        )
        == 0
    )
    assert spot_check(batch.id).decision == "accepted"
    assert (
        db.session.scalar(
            select(AuditEntry).where(
                AuditEntry.action == "batch.accepted", AuditEntry.object_id == str(batch.id)
            )
        )
        is not None
    )


@pytest.mark.parametrize("confirmed_first", [0, 40, 74])
def test_one_defect_over_the_accept_number_rejects_the_batch_at_once(
    seller, admin, seeded, client, auth, confirmed_first
):
    batch = upload(seller, 1000)
    sample = items(batch.id)
    for item in sample[:confirmed_first]:
        record(admin, item)
    for item in sample[confirmed_first : confirmed_first + 5]:
        assert record(admin, item, "fake").status == "spot_check"
    batch = record(admin, sample[confirmed_first + 5], "denied_request")

    assert batch.status == "rejected"
    assert batch.decision["decision"] == "rejected"
    assert batch.decision["defects"] == 6
    assert batch.decision["inspected"] == confirmed_first + 6
    # Nothing from a rejected batch is ever listed: every lead is rejected ...
    assert lead_statuses(batch.id) == {"rejected": 1000}
    # ... the calls not made yet are closed as not needed ...
    closed = items(batch.id, "closed")
    assert len(closed) == 80 - confirmed_first - 6
    for item in closed[:1]:
        response = client.post(
            f"/api/v1/spot-checks/{item.id}", headers=auth(admin), json={"outcome": "confirmed"}
        )
        assert response.status_code == 409
        assert response.get_json()["error"]["code"] == "not_needed"
    # ... and the market refuses to list it later.
    with pytest.raises(Conflict):
        market_services.list_batch(batch_id=batch.id)
    db.session.rollback()
    assert lead_statuses(batch.id) == {"rejected": 1000}
    assert db.session.get(Batch, batch.id).status == "rejected"


def test_a_small_batch_is_inspected_whole(seller, admin):
    batch = upload(seller, 3)
    check = spot_check(batch.id)
    assert (check.lot_size, check.sample_size, check.whole_lot) == (3, 3, True)
    assert (check.accept_number, check.reject_number) == (0, 1)
    for item in items(batch.id)[:-1]:
        assert record(admin, item).status == "spot_check"
    assert record(admin, items(batch.id, "pending")[0]).status == "listed"
    assert lead_statuses(batch.id) == {"listed": 3}


def test_an_outcome_is_recorded_once(seller, admin, client, auth):
    batch = upload(seller, 20)
    item = items(batch.id)[0]
    headers = auth(admin)
    first = client.post(
        f"/api/v1/spot-checks/{item.id}",
        headers=headers,
        json={"outcome": "confirmed", "note": "Happy to talk."},
    )
    assert first.status_code == 200, first.get_json()
    again = client.post(
        f"/api/v1/spot-checks/{item.id}", headers=headers, json={"outcome": "fake"}
    )
    assert again.status_code == 409
    assert again.get_json()["error"]["code"] == "already_recorded"
    db.session.expire_all()
    stored = db.session.get(SpotCheckItem, item.id)
    assert (stored.outcome, stored.note) == ("confirmed", "Happy to talk.")
    assert spot_check(batch.id).inspected == 1


def test_a_batch_held_at_intake_is_not_sampled(seller, admin):
    services.hold_seller(actor=admin, seller_id=seller.organization_id, note="Checking them.")
    batch = upload(seller, 10)
    assert batch.status == "held"
    assert spot_check(batch.id) is None and items(batch.id) == []
    assert lead_statuses(batch.id) == {"pending": 10}
