"""Helpers for the verification tests: upload a batch through intake, work its sample."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from marketplace import services as market_services
from marketplace.models import Batch, Lead
from tests.leadfiles import good_row
from verification import services
from verification.models import SpotCheck, SpotCheckItem

_next_row = {"n": 0}


def rows(count: int, **overrides) -> list[dict]:
    """``count`` valid lead rows no earlier call has used (de-duplication never bites)."""
    start = _next_row["n"]
    _next_row["n"] += count
    return [good_row(start + i, **overrides) for i in range(count)]


def upload(seller, count: int, *, vertical: str = "solar", **row_overrides) -> Batch:
    """A JSON batch of ``count`` good rows, processed at once (Celery runs eagerly in tests)."""
    batch = market_services.create_json_batch(
        user=seller, leads=rows(count, **row_overrides), vertical=vertical, price_cents=1500
    )
    db.session.expire_all()
    return db.session.get(Batch, batch.id)


def spot_check(batch_id: int) -> SpotCheck | None:
    db.session.expire_all()
    return db.session.scalar(select(SpotCheck).where(SpotCheck.batch_id == batch_id))


def items(batch_id: int, status: str | None = None) -> list[SpotCheckItem]:
    stmt = select(SpotCheckItem).where(SpotCheckItem.batch_id == batch_id)
    if status:
        stmt = stmt.where(SpotCheckItem.status == status)
    return list(db.session.scalars(stmt.order_by(SpotCheckItem.id)))


def record(admin, item, outcome: str = "confirmed", **kwargs) -> Batch:
    services.record_outcome(actor=admin, item_id=item.id, outcome=outcome, **kwargs)
    db.session.expire_all()
    return db.session.get(Batch, item.batch_id)


def pass_batch(admin, batch_id: int) -> Batch:
    """Confirm every pending item of the batch's sample."""
    batch = None
    for item in items(batch_id, "pending"):
        batch = record(admin, item)
    return batch


def fail_batch(admin, batch_id: int) -> Batch:
    """Record defects until the batch is rejected."""
    batch = None
    for item in items(batch_id, "pending"):
        batch = record(admin, item, "fake")
        if batch.status == "rejected":
            break
    return batch


def lead_statuses(batch_id: int) -> dict[str, int]:
    from sqlalchemy import func

    stmt = select(Lead.status, func.count()).where(Lead.batch_id == batch_id).group_by(Lead.status)
    return dict(db.session.execute(stmt).all())
