"""Market use cases: verticals, batch uploads, suppressions, seller standing."""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from app.auth.models import Organization, User
from app.auth.services import record_audit
from app.db import transaction, utcnow
from app.errors import Conflict, Forbidden, Invalid, NotFound, TooLarge
from app.extensions import db
from marketplace import intake
from marketplace.derive import derive
from marketplace.errors import BatchNotInSpotCheck, VerticalNotFound
from marketplace.models import Batch, SellerAccount, Suppression, Vertical

MAX_JSON_LEADS = 10_000
MAX_PRICE_CENTS = 1_000_000
MAX_SALES = 20


def upload_dir() -> Path:
    path = Path(
        current_app.config.get("UPLOAD_DIR")
        or Path(current_app.config["INSTANCE_DIR"]) / "uploads"
    )
    path.mkdir(parents=True, exist_ok=True)
    return path


def get_vertical(slug: str, *, active_only: bool = True) -> Vertical:
    vertical = None
    if isinstance(slug, str):
        vertical = db.session.scalar(select(Vertical).where(Vertical.slug == slug))
    if vertical is None or not (vertical.is_active or not active_only):
        raise VerticalNotFound(details={"vertical": [f"Unknown vertical {slug!r}."]})
    return vertical


def seller_account(organization_id: int) -> SellerAccount:
    """The seller's market standing, created on first need (flush only)."""
    account = db.session.get(SellerAccount, organization_id)
    if account is None:
        account = SellerAccount(
            organization_id=organization_id,
            is_on_hold=False,
            inspection_level="normal",
            inspection_state={},
            column_map={},
        )
        db.session.add(account)
        db.session.flush()
    return account


def _require_seller(user: User) -> Organization:
    if user.role != "seller":
        raise Forbidden("Only seller accounts upload batches.")
    return user.organization


def _check_terms(*, price_cents, max_sales) -> None:
    problems = {}
    if (
        not isinstance(price_cents, int)
        or isinstance(price_cents, bool)
        or not (1 <= price_cents <= MAX_PRICE_CENTS)
    ):
        problems["price_cents"] = [f"A whole number of cents from 1 to {MAX_PRICE_CENTS}."]
    if (
        not isinstance(max_sales, int)
        or isinstance(max_sales, bool)
        or not (1 <= max_sales <= MAX_SALES)
    ):
        problems["max_sales"] = [f"A whole number from 1 (exclusive) to {MAX_SALES}."]
    if problems:
        raise Invalid("The batch terms are not valid.", details=problems)


def _new_batch(
    *, user, vertical, name, price_cents, max_sales, source_format, filename, column_map
) -> Batch:
    organization = _require_seller(user)
    _check_terms(price_cents=price_cents, max_sales=max_sales)
    vertical_row = get_vertical(vertical)
    return Batch(
        seller_id=organization.id,
        created_by_id=user.id,
        vertical_id=vertical_row.id,
        vertical=vertical_row,
        name=(name or filename or "Batch").strip()[:200] or "Batch",
        price_cents=price_cents,
        currency="usd",
        max_sales=max_sales,
        status="processing",
        source_format=source_format,
        source_filename=(filename or "")[:255] or None,
        column_map=column_map or {},
    )


def create_csv_batch(
    *,
    user: User,
    stream,
    filename: str | None,
    vertical: str,
    price_cents: int,
    max_sales: int = 1,
    name: str | None = None,
    column_map: dict | None = None,
    remember_mapping: dict | None = None,
) -> Batch:
    """Store an uploaded CSV and queue its processing; the file is copied as a stream.

    Without ``column_map`` the seller's remembered mapping applies; ``remember_mapping`` adds
    header choices to it in the same transaction as the batch.
    """
    with transaction() as session:
        if remember_mapping:
            _require_seller(user)
            account = seller_account(user.organization_id)
            account.column_map = {**(account.column_map or {}), **remember_mapping}
        if column_map is None:
            column_map = seller_account(user.organization_id).column_map or {}
        batch = _new_batch(
            user=user,
            vertical=vertical,
            name=name,
            price_cents=price_cents,
            max_sales=max_sales,
            source_format="csv",
            filename=filename,
            column_map=column_map,
        )
        session.add(batch)
        session.flush()
        path = upload_dir() / f"batch-{batch.id}-{uuid.uuid4().hex}.csv"
        with open(path, "wb") as target:
            shutil.copyfileobj(stream, target, length=1024 * 1024)
        batch.source_path = str(path)
        record_audit(
            actor=user,
            action="batch.uploaded",
            obj=batch,
            details={"format": "csv", "bytes": os.path.getsize(path)},
        )
    _enqueue(batch)
    return db.session.get(Batch, batch.id)


def create_json_batch(
    *,
    user: User,
    leads: list,
    vertical: str,
    price_cents: int,
    max_sales: int = 1,
    name: str | None = None,
) -> Batch:
    if len(leads) > MAX_JSON_LEADS:
        raise TooLarge(
            f"A JSON batch holds at most {MAX_JSON_LEADS:,} leads; upload larger batches as CSV.",
            details={"leads": len(leads), "limit": MAX_JSON_LEADS},
        )
    if not leads:
        raise Invalid("The batch has no leads.", details={"leads": ["At least one lead."]})
    with transaction() as session:
        batch = _new_batch(
            user=user,
            vertical=vertical,
            name=name,
            price_cents=price_cents,
            max_sales=max_sales,
            source_format="json",
            filename=None,
            column_map={},
        )
        session.add(batch)
        session.flush()
        path = upload_dir() / f"batch-{batch.id}-{uuid.uuid4().hex}.jsonl"
        intake.write_json_source(path, leads)
        batch.source_path = str(path)
        record_audit(
            actor=user,
            action="batch.uploaded",
            obj=batch,
            details={"format": "json", "leads": len(leads)},
        )
    _enqueue(batch)
    return db.session.get(Batch, batch.id)


def _enqueue(batch: Batch) -> None:
    from marketplace.tasks import process_batch

    process_batch.delay(batch.id)


def remember_column_map(*, user: User, column_map: dict) -> None:
    """Keep a seller's header mapping for its next uploads."""
    _require_seller(user)
    with transaction():
        account = seller_account(user.organization_id)
        account.column_map = {**(account.column_map or {}), **column_map}


def get_batch_for(*, user: User, batch_id: int) -> Batch:
    """The batch if the user's organisation owns it or the user is an admin, else NotFound."""
    batch = db.session.get(Batch, batch_id)
    if batch is None or not (user.is_admin or batch.seller_id == user.organization_id):
        raise NotFound("No such batch.")
    return batch


# --- verticals (admin) -----------------------------------------------------------------------


def create_vertical(
    *,
    actor: User,
    slug: str,
    name: str,
    return_window_days: int = 7,
    max_lead_age_days: int = 90,
    required_columns: list | None = None,
) -> Vertical:
    with transaction() as session:
        if db.session.scalar(select(Vertical.id).where(Vertical.slug == slug)):
            raise Conflict(f"The vertical {slug!r} exists already.", code="vertical_exists")
        vertical = Vertical(
            slug=slug,
            name=name,
            return_window_days=return_window_days,
            max_lead_age_days=max_lead_age_days,
            required_columns=list(required_columns or []),
            is_active=True,
        )
        session.add(vertical)
        session.flush()
        record_audit(actor=actor, action="vertical.created", obj=vertical, details={"slug": slug})
    return vertical


def update_vertical(*, actor: User, slug: str, **changes) -> Vertical:
    with transaction():
        vertical = get_vertical(slug, active_only=False)
        for key, value in changes.items():
            setattr(vertical, key, list(value) if key == "required_columns" else value)
        record_audit(
            actor=actor,
            action="vertical.updated",
            obj=vertical,
            details={k: v for k, v in changes.items()},
        )
    return vertical


# --- suppressions ----------------------------------------------------------------------------


def add_suppression(
    *,
    actor: User | None,
    email: str | None = None,
    phone: str | None = None,
    reason: str | None = None,
) -> Suppression:
    """Never sell this person again; values are normalised like intake normalises them."""
    from verification.rules.checks import CheckContext, check_row

    if bool(email) == bool(phone):
        raise Invalid("Give an email or a phone.", details={"email": ["Email or phone."]})
    probe = check_row(
        {"email": email, "phone": phone, "country": "US"}, CheckContext(now=utcnow())
    )
    kind = "email" if email else "phone"
    value = probe.values[kind]
    if kind == "email" and value:
        value = value.lower()
    if not value:
        bad = [r.message for r in probe.rejections if r.field == kind] or ["Not valid."]
        raise Invalid(f"The {kind} is not valid.", details={kind: bad})
    with transaction() as session:
        existing = db.session.scalar(
            select(Suppression).where(Suppression.kind == kind, Suppression.value == value)
        )
        if existing:
            return existing
        row = Suppression(kind=kind, value=value, reason=reason)
        session.add(row)
        session.flush()
        record_audit(actor=actor, action="suppression.added", obj=row, details={"kind": kind})
    return row


# --- used by verification --------------------------------------------------------------------
# The spot-check workflow (verification/services.py) changes market state only through these
# (STYLE.md: state both sides read lives here). They are helpers of the caller's use case: they
# flush, never commit, and leave auditing to the caller.

from sqlalchemy import update  # noqa: E402

from marketplace.models import Lead  # noqa: E402


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
    """
    batch = _leave_spot_check(batch_id, "listed")
    paused = seller_account(batch.seller_id).is_on_hold
    db.session.execute(
        update(Lead)
        .where(Lead.batch_id == batch_id, Lead.status == "pending")
        .values(status="listed", listed_at=utcnow(), is_paused=paused)
    )
    if figures:
        set_batch_spot_check(batch_id=batch_id, figures=figures)
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
    from marketplace.queries import lead_values

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
