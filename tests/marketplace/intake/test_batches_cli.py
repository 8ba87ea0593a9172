"""`flask batches` runs and resumes intake from the command line."""

import io

from app.extensions import db
from marketplace.intake import services
from marketplace.models import Batch
from tests.leadfiles import csv_bytes, good_row


def test_resume_processes_waiting_batches_with_progress(runner, seller, monkeypatch):
    monkeypatch.setattr(services, "_enqueue", lambda batch: None)
    batch = services.create_csv_batch(
        user=seller,
        stream=io.BytesIO(csv_bytes([good_row(i) for i in range(30)])),
        filename="x.csv",
        vertical="solar",
        price_cents=100,
    )
    result = runner.invoke(args=["batches", "resume"])
    assert result.exit_code == 0, result.output
    assert f"batch {batch.id}: spot_check (30 accepted, 0 rejected, 0 duplicates)" in result.output
    assert db.session.get(Batch, batch.id).status == "spot_check"
    again = runner.invoke(args=["batches", "process", str(batch.id)])
    assert again.exit_code != 0 and "not processing" in again.output
    assert "no batch is waiting" in runner.invoke(args=["batches", "resume"]).output
