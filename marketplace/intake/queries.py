"""Reads of intake's pages and API: a seller's batches, a batch's rejections and leads."""

from __future__ import annotations

from sqlalchemy import and_, func, or_, select

from app.extensions import db
from marketplace.models import Batch, BatchRejection, Lead

REJECTION_CSV_HEADER = ["row", "field", "code", "message"]


def list_batches(*, seller_id: int):
    return select(Batch).where(Batch.seller_id == seller_id)


def count_batches(*, seller_id: int) -> tuple[int, int]:
    """(batches, leads accepted) of a seller, for its dashboard card."""
    listed = list_batches(seller_id=seller_id).subquery()
    count, accepted = db.session.execute(
        select(func.count(), func.coalesce(func.sum(listed.c.accepted_count), 0))
    ).one()
    return count, accepted


def list_rejections(*, batch_id: int):
    return select(BatchRejection).where(BatchRejection.batch_id == batch_id)


def iter_rejection_rows(*, batch_id: int, page: int = 2000):
    """(row, field, code, message) in row order, read page by page for a streamed download.

    Keyset pages rather than one server-side cursor: a download the client drops leaves no
    cursor open behind it.
    """
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
