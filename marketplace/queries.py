"""Reads of the market: batches, their rejections and leads, verticals."""

from sqlalchemy import select

from marketplace.models import Batch, BatchRejection, Lead, Vertical


def list_verticals(*, include_inactive: bool = False):
    stmt = select(Vertical)
    if not include_inactive:
        stmt = stmt.where(Vertical.is_active.is_(True))
    return stmt.order_by(Vertical.name)


def list_batches(*, seller_id: int):
    return select(Batch).where(Batch.seller_id == seller_id)


def list_rejections(*, batch_id: int):
    return select(BatchRejection).where(BatchRejection.batch_id == batch_id)


REJECTION_CSV_HEADER = ["row", "field", "code", "message"]


def iter_rejection_rows(*, batch_id: int, page: int = 2000):
    """(row, field, code, message) in row order, read page by page for a streamed download.

    Keyset pages rather than one server-side cursor: a download the client drops leaves no
    cursor open behind it.
    """
    from sqlalchemy import and_, or_

    from app.extensions import db

    last_row, last_id = 0, 0
    while True:
        rows = db.session.execute(
            select(
                BatchRejection.row_number,
                BatchRejection.field,
                BatchRejection.code,
                BatchRejection.message,
                BatchRejection.id,
            )
            .where(BatchRejection.batch_id == batch_id)
            .where(
                or_(
                    BatchRejection.row_number > last_row,
                    and_(BatchRejection.row_number == last_row, BatchRejection.id > last_id),
                )
            )
            .order_by(BatchRejection.row_number, BatchRejection.id)
            .limit(page)
        ).all()
        for row in rows:
            yield row[:4]
        if len(rows) < page:
            return
        last_row, last_id = rows[-1][0], rows[-1][4]


def list_batch_leads(*, batch_id: int):
    return select(Lead).where(Lead.batch_id == batch_id)


def lead_counts(batch_ids: list[int]) -> dict[int, dict]:
    """Listed and sold lead counts per batch, in one grouped query."""
    from sqlalchemy import case, func

    from app.extensions import db

    if not batch_ids:
        return {}
    stmt = (
        select(
            Lead.batch_id,
            func.sum(case((Lead.status == "listed", 1), else_=0)),
            func.sum(case((Lead.sales_count > 0, 1), else_=0)),
        )
        .where(Lead.batch_id.in_(batch_ids))
        .group_by(Lead.batch_id)
    )
    return {
        bid: {"listed": int(listed or 0), "sold": int(sold or 0)}
        for bid, listed, sold in db.session.execute(stmt)
    }


def describe_batch(batch: Batch, counts: dict | None = None) -> dict:
    """The batch as api-v1.md shows it."""
    from flask import url_for

    if counts is None:
        counts = lead_counts([batch.id]).get(batch.id, {})
    decision = batch.decision or {}
    return {
        "id": batch.id,
        "name": batch.name,
        "vertical": batch.vertical.slug,
        "price_cents": batch.price_cents,
        "currency": batch.currency,
        "max_sales": batch.max_sales,
        "status": batch.status,
        "created_at": batch.created_at,
        "progress": {"processed": batch.processed_rows, "total": batch.total_rows},
        "counts": {
            "rows": batch.accepted_count + batch.rejected_count + batch.duplicate_count,
            "accepted": batch.accepted_count,
            "rejected": batch.rejected_count,
            "duplicates": batch.duplicate_count,
            "listed": counts.get("listed", 0),
            "sold": counts.get("sold", 0),
        },
        "spot_check": {
            key: decision.get(key)
            for key in (
                "sample_size",
                "accept_number",
                "reject_number",
                "inspected",
                "defects",
                "decision",
            )
        },
        "error": {"code": batch.error_code, "message": batch.error_message}
        if batch.error_code
        else None,
        "links": {
            "self": url_for("market.get_batch", batch_id=batch.id),
            "rejections": url_for("market.list_rejections", batch_id=batch.id),
        },
    }
