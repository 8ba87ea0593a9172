"""Intake's use cases: store an uploaded batch (CSV or JSON) and queue it, remember a seller's
column mapping, and find a batch its caller may see.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable
from pathlib import Path

from app.auth.models import Organization, User
from app.auth.services import record_audit
from app.db import transaction
from app.errors import Forbidden, Invalid, NotFound, TooLarge
from app.extensions import db
from app.tasks import enqueue
from marketplace.intake.files import create_private, upload_dir
from marketplace.intake.source import write_json_source
from marketplace.models import Batch
from marketplace.standing import seller_account
from marketplace.verticals import get_vertical

MAX_JSON_LEADS = 10_000
MAX_PRICE_CENTS = 1_000_000
MAX_SALES = 20


def _require_seller(user: User) -> Organization:
    if user.role != "seller":
        raise Forbidden("Only seller accounts upload batches.")
    return user.organization


def check_terms(*, price_cents, max_sales) -> None:
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


def check_json_size(leads) -> None:
    """A JSON batch over the limit is refused as too large (413) before anything else."""
    if isinstance(leads, list | tuple) and len(leads) > MAX_JSON_LEADS:
        raise TooLarge(
            f"A JSON batch holds at most {MAX_JSON_LEADS:,} leads; upload larger batches as CSV.",
            details={"leads": len(leads), "limit": MAX_JSON_LEADS},
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

    def write(path: Path) -> dict:
        with open(path, "wb") as target:
            shutil.copyfileobj(stream, target, length=1024 * 1024)
        return {"bytes": os.path.getsize(path)}

    return _create_batch(
        user=user,
        vertical=vertical,
        price_cents=price_cents,
        max_sales=max_sales,
        name=name,
        source_format="csv",
        suffix="csv",
        filename=filename,
        column_map=column_map,
        remember_mapping=remember_mapping,
        write=write,
    )


def create_json_batch(
    *,
    user: User,
    leads: list,
    vertical: str,
    price_cents: int,
    max_sales: int = 1,
    name: str | None = None,
) -> Batch:
    """Store the leads of a JSON upload, one JSON object per line, and queue their processing."""
    check_json_size(leads)
    if not leads:
        raise Invalid("The batch has no leads.", details={"leads": ["At least one lead."]})

    def write(path: Path) -> dict:
        write_json_source(path, leads)
        return {"leads": len(leads)}

    return _create_batch(
        user=user,
        vertical=vertical,
        price_cents=price_cents,
        max_sales=max_sales,
        name=name,
        source_format="json",
        suffix="jsonl",
        filename=None,
        column_map={},
        remember_mapping=None,
        write=write,
    )


def _create_batch(
    *,
    user: User,
    vertical: str,
    price_cents: int,
    max_sales: int,
    name: str | None,
    source_format: str,
    suffix: str,
    filename: str | None,
    column_map: dict | None,
    remember_mapping: dict | None,
    write: Callable[[Path], dict],
) -> Batch:
    """The one upload skeleton: the batch row, its stored file and audit entry, then the queue.

    ``write(path)`` stores the file and returns what the audit entry records about it.
    """
    with transaction() as session:
        if remember_mapping:
            _require_seller(user)
            account = seller_account(user.organization_id)
            account.column_map = {**(account.column_map or {}), **remember_mapping}
        if column_map is None:
            column_map = seller_account(user.organization_id).column_map or {}
        organization = _require_seller(user)
        check_terms(price_cents=price_cents, max_sales=max_sales)
        vertical_row = get_vertical(vertical)
        batch = Batch(
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
        session.add(batch)
        session.flush()
        path = upload_dir() / f"batch-{batch.id}-{uuid.uuid4().hex}.{suffix}"
        create_private(path).close()  # 0600 before a byte of personal data is in it
        try:
            details = write(path)
        except BaseException:
            path.unlink(missing_ok=True)  # the batch row rolls back; its file goes too
            raise
        batch.source_path = str(path)
        record_audit(
            actor=user,
            action="batch.uploaded",
            obj=batch,
            details={"format": source_format, **details},
        )
    _enqueue(batch)
    return db.session.get(Batch, batch.id)


def _enqueue(batch: Batch) -> None:
    enqueue("marketplace.process_batch", batch.id)


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
