"""Intakes that overlap (two workers, a retried file, two sellers with the same people) accept
each person once in total, on SQLite and on PostgreSQL."""

import io
import threading

import pytest
from sqlalchemy import func, select, update

from app.extensions import db
from marketplace.intake import pipeline, run, services, store, tasks
from marketplace.models import Batch, BatchRejection, Lead
from tests.helpers import make_user
from tests.leadfiles import csv_bytes, good_row

PEOPLE = 4_000


@pytest.fixture
def queue_only(monkeypatch):
    """Uploads are stored but not processed; each test runs intake itself."""
    monkeypatch.setattr(services, "_enqueue", lambda batch: None)


def stored_batch(user, content: bytes) -> int:
    batch = services.create_csv_batch(
        user=user,
        stream=io.BytesIO(content),
        filename="people.csv",
        vertical="solar",
        price_cents=500,
    )
    return batch.id


def assert_counts_add_up(batch: Batch) -> None:
    assert batch.processed_rows == batch.total_rows
    assert batch.total_rows == batch.accepted_count + batch.rejected_count + batch.duplicate_count
    stored = db.session.scalar(select(func.count(Lead.id)).where(Lead.batch_id == batch.id))
    duplicates = db.session.scalar(
        select(func.count(BatchRejection.id)).where(
            BatchRejection.batch_id == batch.id,
            BatchRejection.code.in_(("duplicate", "duplicate_in_batch")),
        )
    )
    assert (stored, duplicates) == (batch.accepted_count, batch.duplicate_count)


def run_at_once(app, batch_ids: list[int]) -> dict:
    """The processing task of each batch, each in its own thread, app context and session.

    A barrier before every chunk's store step makes the runs overlap chunk for chunk, as two
    Celery workers on one long file do, instead of one finishing before the other starts.
    """
    barrier = threading.Barrier(len(batch_ids))
    real_store = run.store_chunk

    def in_step(*args, **kwargs):
        barrier.wait(timeout=60)
        return real_store(*args, **kwargs)

    results, errors = {}, []

    def work(batch_id):
        try:
            with app.app_context():
                try:
                    results[batch_id] = tasks.process_batch.apply(args=[batch_id]).get()
                finally:
                    db.session.remove()
        except BaseException as exc:  # reported below; a thread cannot fail the test itself
            errors.append(exc)

    run.store_chunk = in_step
    try:
        threads = [threading.Thread(target=work, args=(i,)) for i in batch_ids]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=180)
    finally:
        run.store_chunk = real_store
    assert not errors, errors
    db.session.expire_all()
    return results


@pytest.mark.parametrize("second_seller", [False, True], ids=["same-seller", "two-sellers"])
def test_two_concurrent_intakes_of_the_same_people_accept_each_once(
    app, queue_only, seller, second_seller
):
    content = csv_bytes([good_row(i) for i in range(PEOPLE)])
    other = make_user("seller") if second_seller else seller
    ids = [stored_batch(seller, content), stored_batch(other, content)]

    statuses = run_at_once(app, ids)

    assert set(statuses.values()) <= {"spot_check", "rejected"}, statuses
    batches = [db.session.get(Batch, batch_id) for batch_id in ids]
    for batch in batches:
        assert_counts_add_up(batch)
    assert sum(b.accepted_count for b in batches) == PEOPLE
    assert sum(b.duplicate_count for b in batches) == PEOPLE
    leads = db.session.scalar(select(func.count(Lead.id)))
    people = db.session.scalar(select(func.count(func.distinct(Lead.email))))
    assert leads == people == PEOPLE


def test_rows_committed_by_an_intake_still_processing_are_duplicates(
    monkeypatch, queue_only, seller
):
    """A run that stopped after its first chunk still holds those people against others."""
    monkeypatch.setattr(pipeline, "CHUNK_ROWS", 5)
    content = csv_bytes([good_row(i) for i in range(10)])
    first, second = stored_batch(seller, content), stored_batch(make_user("seller"), content)
    real_store = run.store_chunk

    def dying(batch, checked, lookback_days):
        if batch.processed_rows:
            raise SystemExit("worker killed")  # the first chunk is committed, then it stops
        return real_store(batch, checked, lookback_days)

    monkeypatch.setattr(run, "store_chunk", dying)
    with pytest.raises(SystemExit):
        run.process_batch(batch_id=first)
    db.session.rollback()
    monkeypatch.setattr(run, "store_chunk", real_store)
    assert db.session.get(Batch, first).status == "processing"

    run.process_batch(batch_id=second)
    run.process_batch(batch_id=first)  # resumed: its own committed rows are not duplicates
    db.session.expire_all()
    one, two = db.session.get(Batch, first), db.session.get(Batch, second)
    assert (one.accepted_count, one.duplicate_count) == (5, 5)
    assert (two.accepted_count, two.duplicate_count) == (5, 5)
    for batch in (one, two):
        assert_counts_add_up(batch)
    assert db.session.scalar(select(func.count(func.distinct(Lead.email)))) == 10


@pytest.mark.parametrize("ended", ["failed", "rejected"])
def test_people_of_a_failed_or_rejected_batch_can_be_uploaded_again(queue_only, seller, ended):
    """A batch that ends failed (unusable file, broken run) or rejected (its spot-check failed,
    or nothing accepted) is off the market: its leads block nobody."""
    content = csv_bytes([good_row(i) for i in range(10)])
    earlier = stored_batch(seller, content)
    run.process_batch(batch_id=earlier)
    db.session.execute(update(Batch).where(Batch.id == earlier).values(status=ended))
    db.session.commit()

    again = run.process_batch(batch_id=stored_batch(seller, content))
    assert (again.accepted_count, again.duplicate_count) == (10, 0)


def test_a_batch_failed_mid_intake_blocks_nobody(monkeypatch, queue_only, seller):
    monkeypatch.setattr(pipeline, "CHUNK_ROWS", 5)
    content = csv_bytes([good_row(i) for i in range(10)])
    broken = stored_batch(seller, content)
    real_store = store.store_chunk

    def bug_on_second_chunk(batch, checked, lookback_days):
        if batch.processed_rows:
            raise RuntimeError("a bug, not the database")
        return real_store(batch, checked, lookback_days)

    monkeypatch.setattr(run, "store_chunk", bug_on_second_chunk)
    failed = run.process_batch(batch_id=broken)
    assert failed.status == "failed" and failed.accepted_count == 5
    monkeypatch.setattr(run, "store_chunk", real_store)

    again = run.process_batch(batch_id=stored_batch(seller, content))
    assert (again.status, again.accepted_count, again.duplicate_count) == ("spot_check", 10, 0)
