"""A seller's market standing and what verification may change: holds, paused leads, the
inspection state, the quality score, listing or rejecting a spot-checked batch, defective leads
and re-scoring.

STYLE.md: state both sides read lives here, and the spot-check workflow changes it only through
these functions (re-exported by marketplace.services). They are helpers of the caller's use
case: they flush, never commit, and leave auditing to the caller.
"""

from __future__ import annotations

from sqlalchemy import select, update

from app.db import after_commit, in_transaction, insert_if_absent, utcnow
from app.errors import NotFound
from app.extensions import db
from app.tasks import enqueue
from marketplace.derive import derive
from marketplace.errors import BatchNotInSpotCheck
from marketplace.listings.queries import expires_at_of
from marketplace.models import Batch, Lead, SellerAccount
from marketplace.purchases.models import PurchasedLead
from marketplace.queries import lead_values


def seller_account(organization_id: int) -> SellerAccount:
    """The seller's market standing, created on first need.

    Created with an insert that does nothing when the row is there, then read: two requests
    of a brand-new seller at the same moment (two first uploads) both get the one row, where
    "read, then add" made the second fail on the primary key.
    """
    account = db.session.get(SellerAccount, organization_id)
    if account is None:
        insert_if_absent(
            SellerAccount,
            key=["organization_id"],
            organization_id=organization_id,
            is_on_hold=False,
            inspection_level="normal",
            inspection_state={},
            column_map={},
        )
        account = db.session.get(SellerAccount, organization_id)
    return account


def lock_seller_account(seller_id: int) -> SellerAccount:
    """The seller's account row, locked until the transaction ends (FOR UPDATE on PostgreSQL).

    Switching state and holds are read-modify-write: two decisions of one seller at the same
    moment must not both read the old state.
    """
    seller_account(seller_id)  # created first if missing, so there is a row to lock
    return db.session.scalar(
        select(SellerAccount)
        .where(SellerAccount.organization_id == seller_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


# --- a spot-checked batch ------------------------------------------------------------------------


def set_batch_spot_check(*, batch_id: int, figures: dict) -> Batch:
    """Merge spot-check figures (plan, counts, decision) into ``batch.decision``."""
    batch = db.session.get(Batch, batch_id)
    if batch is None:
        raise NotFound("No such batch.")
    # A new dict, so the JSON column is seen as changed.
    batch.decision = {**(batch.decision or {}), **figures}
    db.session.flush()
    return batch


def _leave_spot_check(batch_id: int, status: str) -> Batch:
    # Conditional on the status, so a batch is listed or rejected once, by one decision.
    result = db.session.execute(
        update(Batch)
        .where(Batch.id == batch_id, Batch.status == "spot_check")
        .values(status=status)
    )
    if result.rowcount != 1:
        raise BatchNotInSpotCheck(details={"batch_id": batch_id})
    return db.session.get(Batch, batch_id)


def list_batch(*, batch_id: int, figures: dict | None = None) -> Batch:
    """The sample passed: the batch's pending leads go on sale; defective ones stay off.

    Leads listed while the seller is on hold are listed paused, so they appear when it clears.
    Each lead leaves the market when it is older than its vertical's maximum age.

    Once the caller's transaction commits, the batch's auto-buy run is queued (never on a
    rollback); outside a transaction, or if queueing fails, the auto-buy sweep runs it.
    """
    batch = _leave_spot_check(batch_id, "listed")
    paused = seller_account(batch.seller_id).is_on_hold
    db.session.execute(
        update(Lead)
        .where(Lead.batch_id == batch_id, Lead.status == "pending")
        .values(
            status="listed",
            listed_at=utcnow(),
            is_paused=paused,
            expires_at=expires_at_of(batch.vertical.max_lead_age_days),
        )
        .execution_options(synchronize_session=False)
    )
    if figures:
        set_batch_spot_check(batch_id=batch_id, figures=figures)
    if in_transaction():
        after_commit(lambda: enqueue("marketplace.autobuy_batch", batch_id))
    return batch


def reject_batch(*, batch_id: int, figures: dict | None = None) -> Batch:
    """The sample failed: every lead of the batch is rejected and never listed or sold."""
    batch = _leave_spot_check(batch_id, "rejected")
    db.session.execute(
        update(Lead)
        .where(Lead.batch_id == batch_id, Lead.status != "rejected")
        .values(status="rejected", listed_at=None)
    )
    if figures:
        set_batch_spot_check(batch_id=batch_id, figures=figures)
    return batch


def release_held_batches(*, seller_id: int) -> list[int]:
    """A cleared hold: the seller's held batches go on to spot-check; returns their ids."""
    ids = list(
        db.session.scalars(
            select(Batch.id)
            .where(Batch.seller_id == seller_id, Batch.status == "held")
            .order_by(Batch.id)
        )
    )
    if ids:
        db.session.execute(
            update(Batch)
            .where(Batch.id.in_(ids), Batch.status == "held")
            .values(status="spot_check")
        )
    return ids


# --- single leads --------------------------------------------------------------------------------


def mark_leads_defective(*, lead_ids) -> int:
    """Leads a spot-check found bad stay off sale even when their batch is listed."""
    lead_ids = list(lead_ids)
    if not lead_ids:
        return 0
    result = db.session.execute(
        update(Lead)
        .where(Lead.id.in_(lead_ids), Lead.status == "pending")
        .values(status="defective")
    )
    return result.rowcount or 0


def rescore_lead(*, lead_id: int, bant_override: dict) -> dict:
    """Qualify and score a lead again with the BANT a person actually gave; returns changes."""
    lead = db.session.get(Lead, lead_id)
    if lead is None:
        raise NotFound("No such lead.")
    changes = {}
    for key, value in derive(lead_values(lead), bant_override=bant_override).items():
        before = getattr(lead, key)
        if before != value:
            changes[key] = {"before": before, "after": value}
            setattr(lead, key, value)
    db.session.flush()
    return changes


# --- holds, inspection level, quality score ------------------------------------------------------


def pause_seller_leads(*, seller_id: int) -> int:
    """Take the seller's listed leads off the market without withdrawing them."""
    result = db.session.execute(
        update(Lead)
        .where(Lead.seller_id == seller_id, Lead.status == "listed", Lead.is_paused.is_(False))
        .values(is_paused=True)
    )
    return result.rowcount or 0


def unpause_seller_leads(*, seller_id: int) -> int:
    result = db.session.execute(
        update(Lead)
        .where(Lead.seller_id == seller_id, Lead.is_paused.is_(True))
        .values(is_paused=False)
    )
    return result.rowcount or 0


def set_seller_hold(*, seller_id: int, reason: str) -> int:
    """Put a seller on hold: new batches stop in 'held', listed leads are paused.

    Returns how many leads were paused.
    """
    account = seller_account(seller_id)
    account.is_on_hold = True
    account.hold_reason = reason
    account.held_at = utcnow()
    db.session.flush()
    return pause_seller_leads(seller_id=seller_id)


def clear_seller_hold(*, seller_id: int) -> int:
    """Lift a seller's hold; its paused leads return to the market. Returns how many."""
    account = seller_account(seller_id)
    account.is_on_hold = False
    account.hold_reason = None
    account.held_at = None
    db.session.flush()
    return unpause_seller_leads(seller_id=seller_id)


def set_inspection_state(*, seller_id: int, level: str, state: dict) -> SellerAccount:
    """The seller's ISO 2859-1 switching state (level plus the counters behind it)."""
    account = seller_account(seller_id)
    account.inspection_level = level
    account.inspection_state = dict(state)
    db.session.flush()
    return account


def set_quality_score(*, seller_id: int, score: int) -> bool:
    """Store the seller's published quality score (buyers filter by it); True if it changed."""
    account = seller_account(seller_id)
    if account.quality_score == score:
        return False
    account.quality_score = score
    db.session.flush()
    return True


# --- what the disputes workflow changes ----------------------------------------------------------


def flag_lead(*, lead_id: int, field: str, values: dict) -> dict:
    """An upheld dispute proved the lead's ``field`` ("phone" or "email") bad: flag it, take the
    lead off sale for good, store what today's re-check found for that field (``values``: the
    re-check's fresh values, e.g. the phone's type) and score it again. Returns the changes."""
    if field not in ("phone", "email"):
        raise ValueError(f"cannot flag {field!r}")
    lead = db.session.get(Lead, lead_id)
    if lead is None:
        raise NotFound("No such lead.")
    changes = {}
    for key, value in values.items():
        if (key == field or key.startswith(f"{field}_")) and hasattr(Lead, key):
            if getattr(lead, key) != value:
                changes[key] = {"before": getattr(lead, key), "after": value}
                setattr(lead, key, value)
    lead.flagged_field = field
    if lead.status in ("pending", "listed"):
        lead.status = "defective"
    for key, value in derive(lead_values(lead)).items():
        if getattr(lead, key) != value:
            changes[key] = {"before": getattr(lead, key), "after": value}
            setattr(lead, key, value)
    db.session.flush()
    return changes


def set_purchase_dispute(*, purchased_lead_id: int, dispute_id: int, status: str) -> None:
    """Keep the bought lead's view of its return in step with the dispute (flush only)."""
    db.session.execute(
        update(PurchasedLead)
        .where(PurchasedLead.id == purchased_lead_id)
        .values(dispute_id=dispute_id, dispute_status=status)
    )
