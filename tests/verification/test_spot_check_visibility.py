"""A batch is never seen in spot_check without its sample plan, not even for a moment."""

import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from app.extensions import db
from marketplace import queries as market
from marketplace.intake import run
from marketplace.intake import services as intake_services
from marketplace.models import Batch
from marketplace.signals import batch_processed
from tests.verification.flow import rows, spot_check, upload
from verification import services

PLAN_FIELDS = ("sample_size", "accept_number", "reject_number", "inspected", "defects")


@pytest.fixture
def after_every_commit(app):
    """What a client polling GET /api/v1/batches/<id> could read just after each commit.

    Every session's commit is followed by a read of every batch through a connection of its
    own, as another request would make it; the batch as the API describes it is recorded.
    """
    seen = []

    def look(_session):
        with Session(db.engine) as other:
            for batch in other.scalars(select(Batch)):
                view = market.describe_batch(batch, counts={})
                seen.append((batch.id, view["status"], view["spot_check"]))

    event.listen(Session, "after_commit", look)
    try:
        yield seen
    finally:
        event.remove(Session, "after_commit", look)


def test_a_batch_is_never_seen_in_spot_check_without_its_plan(seller, after_every_commit):
    batch = upload(seller, 10)
    assert batch.status == "spot_check"
    sightings = [(status, plan) for _, status, plan in after_every_commit]
    assert "spot_check" in [status for status, _ in sightings], sightings
    for status, plan in sightings:
        if status == "spot_check":
            assert None not in [plan[field] for field in PLAN_FIELDS], plan


def queued(seller, monkeypatch, count: int) -> int:
    monkeypatch.setattr(intake_services, "_enqueue", lambda batch: None)
    batch = intake_services.create_json_batch(
        user=seller, leads=rows(count), vertical="solar", price_cents=1500
    )
    return batch.id


def test_a_failed_draw_leaves_the_batch_processing_until_intake_finishes_again(
    seller, monkeypatch, runner, after_every_commit
):
    """Status and sample commit together, so a draw that fails undoes the status change: the
    batch stays processing (never spot_check without a plan) and resuming finishes it."""
    batch_id = queued(seller, monkeypatch, 10)

    real_draw = services._draw

    def broken(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(services, "_draw", broken)
    with pytest.raises(run.IntakeInterrupted):
        run.process_batch(batch_id=batch_id)
    db.session.expire_all()
    batch = db.session.get(Batch, batch_id)
    assert (batch.status, batch.processed_rows, batch.accepted_count) == ("processing", 10, 10)
    assert spot_check(batch_id) is None
    assert "spot_check" not in [status for _, status, _ in after_every_commit]

    monkeypatch.setattr(services, "_draw", real_draw)
    result = runner.invoke(args=["batches", "resume"])
    assert result.exit_code == 0, result.output
    assert spot_check(batch_id).sample_size == 5
    assert db.session.get(Batch, batch_id).status == "spot_check"


def test_missing_samples_are_drawn_later(seller):
    """A batch that reaches spot_check with no sample (batch_processed sent while nothing
    listened, or left from before samples were drawn in intake's transaction) is sampled by
    the periodic task."""
    batch_processed.disconnect(services.on_batch_processed)
    try:
        batch = upload(seller, 10)
    finally:
        batch_processed.connect(services.on_batch_processed)
    assert batch.status == "spot_check" and spot_check(batch.id) is None
    from verification.tasks import draw_missing_samples

    assert draw_missing_samples.delay().get() == [batch.id]
    assert spot_check(batch.id).sample_size == 5
    assert draw_missing_samples.delay().get() == []
