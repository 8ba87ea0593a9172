"""Intake's fast path (records to workers, driver-ready rows) stores what the plain path would."""

import io

from sqlalchemy import select

from app.extensions import db
from marketplace.intake import pipeline, run, services
from marketplace.models import BatchRejection, Lead
from tests.leadfiles import csv_bytes, good_row


def upload(seller, content: bytes):
    return services.create_csv_batch(
        user=seller,
        stream=io.BytesIO(content),
        filename="leads.csv",
        vertical="solar",
        price_cents=500,
    )


def outcome(batch_id):
    leads = db.session.execute(
        select(Lead.row_number, Lead.email, Lead.phone, Lead.has_budget)
        .where(Lead.batch_id == batch_id)
        .order_by(Lead.row_number)
    ).all()
    rejections = db.session.execute(
        select(BatchRejection.row_number, BatchRejection.field, BatchRejection.code)
        .where(BatchRejection.batch_id == batch_id)
        .order_by(BatchRejection.row_number, BatchRejection.field)
    ).all()
    return [tuple(r) for r in leads], [tuple(r) for r in rejections]


def lead_file(first: int) -> bytes:
    """4,500 rows (good_row(first) on, so two files share no phone), 3 bad, blank lines."""
    rows = [good_row(first + i, has_budget="yes" if i % 2 else "no") for i in range(4_500)]
    rows[10]["email"] = "bad@"
    rows[2_345]["phone"] = "12345"
    rows[4_000]["email"] = rows[3]["email"]  # a duplicate in a later chunk
    lines = csv_bytes(rows).split(b"\r\n")
    # Blank records in the first and in a later chunk, which intake does not count as rows.
    return b"\r\n".join(lines[:5] + [b"", b",,,"] + lines[5:3_000] + [b" , "] + lines[3_000:])


def test_worker_pool_numbers_rows_as_inline_despite_blank_lines(app, monkeypatch, seller):
    """Workers build the rows from raw records; numbering must still skip blank lines."""
    monkeypatch.setattr(services, "_enqueue", lambda batch: None)
    inline = upload(seller, lead_file(0))
    run.process_batch(batch_id=inline.id)

    monkeypatch.setattr(pipeline, "POOL_MIN_ROWS", 1)
    app.config["INTAKE_WORKERS"] = 2
    try:
        pooled = upload(seller, lead_file(4_500))
        run.process_batch(batch_id=pooled.id)
    finally:
        app.config.pop("INTAKE_WORKERS")

    inline_leads, inline_rejections = outcome(inline.id)
    pooled_leads, pooled_rejections = outcome(pooled.id)
    assert pooled_rejections == inline_rejections
    assert [r[0] for r in inline_rejections] == [11, 2_346, 4_001]
    assert len(pooled_leads) == len(inline_leads) == 4_497
    assert [(r[0], r[3]) for r in pooled_leads] == [(r[0], r[3]) for r in inline_leads]


def test_stored_leads_read_back_as_the_orm_would_store_them(monkeypatch, seller):
    """Booleans, JSON, datetimes and a column the file lacks (all NULL) come back typed."""
    monkeypatch.setattr(services, "_enqueue", lambda batch: None)
    rows = [good_row(1, has_budget="yes", interest_signals="demo_request;webinar")]
    rows.append(good_row(2, has_budget="no", interest_signals=""))
    batch = upload(seller, csv_bytes(rows))
    run.process_batch(batch_id=batch.id)
    first, second = db.session.scalars(
        select(Lead).where(Lead.batch_id == batch.id).order_by(Lead.row_number)
    ).all()
    assert first.has_budget is True and second.has_budget is False
    assert first.is_paused is False and first.bant_budget is True
    assert first.company is None and first.budget_cents is None  # not in the file
    assert first.interest_signals == ["demo_request", "webinar"]
    assert second.interest_signals == [] and first.extra == {}
    assert first.score_breakdown and all("sign" in item for item in first.score_breakdown)
    assert first.captured_at.tzinfo is not None and first.created_at.tzinfo is not None
    assert first.captured_at == first.consented_at
