"""Intake that dies part-way: resumed exactly, or clearly failed; never half-counted."""

import io
import pickle
import sqlite3
import tempfile

import psycopg
import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, OperationalError

from app.extensions import db
from marketplace.intake import pipeline, run, services, store, tasks
from marketplace.intake.rows import LeadRowFormat, check_chunk
from marketplace.intake.source import inspect_source, iter_rows
from marketplace.models import Batch, BatchRejection, Lead
from tests.leadfiles import csv_bytes, good_row
from verification.rules.checks import CheckContext


@pytest.fixture
def queued(monkeypatch, seller):
    """A 5,000-row batch stored but not yet processed."""
    monkeypatch.setattr(services, "_enqueue", lambda batch: None)
    rows = [good_row(i) for i in range(4_990)] + [good_row(i, email="bad@") for i in range(10)]
    content = csv_bytes(rows)
    batch = services.create_csv_batch(
        user=seller,
        stream=io.BytesIO(content),
        filename="big.csv",
        vertical="solar",
        price_cents=500,
    )
    return batch.id


def counts(batch_id):
    batch = db.session.get(Batch, batch_id)
    leads = db.session.scalar(select(func.count(Lead.id)).where(Lead.batch_id == batch_id))
    rejected_rows = db.session.scalar(
        select(func.count(func.distinct(BatchRejection.row_number))).where(
            BatchRejection.batch_id == batch_id
        )
    )
    return batch, leads, rejected_rows


def test_a_crash_between_chunks_resumes_without_double_counting(monkeypatch, queued):
    real = store.store_chunk
    calls = {"n": 0}

    def dying(batch, checked, lookback_days):
        calls["n"] += 1
        if calls["n"] == 2:
            raise SystemExit("worker killed")  # not an Exception: the run just stops
        return real(batch, checked, lookback_days)

    monkeypatch.setattr(run, "store_chunk", dying)
    with pytest.raises(SystemExit):
        run.process_batch(batch_id=queued)
    db.session.rollback()
    batch, leads, _ = counts(queued)
    assert batch.status == "processing"
    assert batch.processed_rows == pipeline.CHUNK_ROWS == leads  # first chunk only

    monkeypatch.setattr(run, "store_chunk", real)
    run.process_batch(batch_id=queued)
    batch, leads, rejected_rows = counts(queued)
    assert batch.status == "spot_check"
    assert (batch.accepted_count, batch.rejected_count, batch.duplicate_count) == (4_990, 10, 0)
    assert leads == 4_990 and rejected_rows == 10


def test_an_unexpected_error_fails_the_batch_clearly(monkeypatch, queued):
    def broken(batch, checked, lookback_days):
        raise RuntimeError("bug")

    monkeypatch.setattr(run, "store_chunk", broken)
    run.process_batch(batch_id=queued)
    batch, leads, _ = counts(queued)
    assert batch.status == "failed" and batch.error_code == "processing_error"
    assert leads == batch.accepted_count + batch.duplicate_count == 0


def test_two_runs_never_count_a_chunk_twice(queued):
    """A second run that starts from a stale processed_rows stops instead of re-inserting."""
    batch = db.session.get(Batch, queued)
    rows = list(iter_rows(batch, inspect_source(batch).headers, 0))[:10]
    fmt = LeadRowFormat.for_batch(batch, now=batch.created_at, dialect=db.engine.dialect.name)
    first = check_chunk(rows, CheckContext(now=batch.created_at), fmt)
    store.store_chunk(batch, first, 90)
    db.session.commit()
    stale = db.session.get(Batch, queued)
    db.session.expunge(stale)
    stale.processed_rows = 0  # what a run that loaded the batch earlier would believe
    with pytest.raises(store.ProcessingConflict):
        store.store_chunk(stale, first, 90)
    db.session.rollback()
    assert counts(queued)[1] == 10


def test_worker_pool_gives_the_same_result_as_inline(app, monkeypatch, seller):
    monkeypatch.setattr(services, "_enqueue", lambda batch: None)
    monkeypatch.setattr(pipeline, "POOL_MIN_ROWS", 1)
    app.config["INTAKE_WORKERS"] = 2
    try:
        rows = [good_row(i) for i in range(5_000)] + [good_row(1)]
        batch = services.create_csv_batch(
            user=seller,
            stream=io.BytesIO(csv_bytes(rows)),
            filename="pool.csv",
            vertical="solar",
            price_cents=500,
        )
        assert pipeline.pool_size(5_001) == 2
        run.process_batch(batch_id=batch.id)
    finally:
        app.config.pop("INTAKE_WORKERS")
    batch, leads, _ = counts(batch.id)
    assert (batch.accepted_count, batch.duplicate_count, leads) == (5_000, 1, 5_000)


def only_gmail_delivers(email: str) -> bool:
    return email.endswith("@gmail.com")


def test_a_configured_deliverability_check_rejects_undeliverable_emails(app, seller):
    app.config["EMAIL_DELIVERABILITY_CHECK"] = f"{__name__}:only_gmail_delivers"
    try:
        rows = [good_row(1), good_row(2, email="someone@outlook.com")]
        batch = services.create_csv_batch(
            user=seller,
            stream=io.BytesIO(csv_bytes(rows)),
            filename="d.csv",
            vertical="solar",
            price_cents=100,
        )
    finally:
        app.config["EMAIL_DELIVERABILITY_CHECK"] = None
    db.session.refresh(batch)  # processed in the task's own session
    assert (batch.accepted_count, batch.rejected_count) == (1, 1)


def sqlite_busy() -> sqlite3.OperationalError:
    """A real "database is locked" from SQLite: another connection holds the write lock."""
    with tempfile.TemporaryDirectory() as folder:
        path = f"{folder}/locked.db"
        holder = sqlite3.connect(path, isolation_level=None)
        waiter = sqlite3.connect(path, timeout=0, isolation_level=None)
        try:
            holder.execute("BEGIN IMMEDIATE")
            try:
                waiter.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                return exc
            raise AssertionError("SQLite granted a second write lock")
        finally:
            holder.close()
            waiter.close()


def lock_error() -> DBAPIError:
    """The lock error this database would raise: SQLite busy, or a PostgreSQL lock timeout."""
    if db.engine.dialect.name == "postgresql":
        orig = psycopg.errors.LockNotAvailable("canceling statement due to lock timeout")
    else:
        orig = sqlite_busy()
    return OperationalError("INSERT INTO leads ...", {}, orig)


def failing_once_on_chunk(number: int, error):
    real = store.store_chunk
    calls = {"n": 0}

    def step(batch, checked, lookback_days):
        calls["n"] += 1
        if calls["n"] == number:
            real(batch, checked, lookback_days)  # written, then the commit never comes
            raise error
        return real(batch, checked, lookback_days)

    return step


def assert_complete_and_exact(batch_id):
    batch, leads, rejected_rows = counts(batch_id)
    assert batch.status == "spot_check" and batch.error_code is None
    assert (batch.accepted_count, batch.rejected_count, batch.duplicate_count) == (4_990, 10, 0)
    assert batch.processed_rows == batch.total_rows == 5_000
    assert leads == 4_990 and rejected_rows == 10
    people = db.session.scalar(
        select(func.count(func.distinct(Lead.email))).where(Lead.batch_id == batch_id)
    )
    assert people == leads  # no lead row twice


def test_a_lock_error_mid_intake_is_retried_by_the_task(monkeypatch, queued):
    monkeypatch.setattr(run, "store_chunk", failing_once_on_chunk(2, lock_error()))
    # Eager in tests, so the retry runs at once instead of after its back-off; throw=False
    # lets Celery handle the retry as a worker would rather than raise it to the caller.
    result = tasks.process_batch.apply(args=[queued], throw=False)
    assert (result.get(), result.state) == ("spot_check", "SUCCESS")
    assert_complete_and_exact(queued)


@pytest.mark.parametrize(
    "error",
    [
        pytest.param(lambda: lock_error(), id="lock"),
        pytest.param(
            lambda: OperationalError(
                "UPDATE batches ...",
                {},
                psycopg.errors.SerializationFailure("could not serialize"),
            ),
            id="serialization",
        ),
        pytest.param(
            lambda: OperationalError(
                "INSERT ...", {}, psycopg.errors.DeadlockDetected("deadlock detected")
            ),
            id="deadlock",
        ),
        pytest.param(
            lambda: DBAPIError(
                "INSERT ...",
                {},
                Exception("server closed the connection"),
                connection_invalidated=True,
            ),
            id="connection-lost",
        ),
    ],
)
def test_a_temporary_database_error_leaves_the_batch_resumable(monkeypatch, runner, queued, error):
    """Not 'failed' (that says the file is unusable): still processing, and resume finishes it."""
    monkeypatch.setattr(run, "store_chunk", failing_once_on_chunk(2, error()))
    with pytest.raises(run.IntakeInterrupted):
        run.process_batch(batch_id=queued)
    batch, leads, _ = counts(queued)
    assert (batch.status, batch.error_code) == ("processing", None)
    assert batch.processed_rows == pipeline.CHUNK_ROWS == leads

    result = runner.invoke(args=["batches", "resume"])
    assert result.exit_code == 0, result.output
    assert_complete_and_exact(queued)


def test_the_cli_says_a_batch_stopped_on_a_temporary_error(monkeypatch, runner, queued):
    monkeypatch.setattr(run, "store_chunk", failing_once_on_chunk(1, lock_error()))
    result = runner.invoke(args=["batches", "process", str(queued)])
    assert result.exit_code != 0
    assert "temporary database error" in result.output and "still processing" in result.output
    assert counts(queued)[0].status == "processing"


@pytest.mark.unit
def test_which_database_errors_are_temporary():
    temporary = [
        OperationalError("x", {}, sqlite_busy()),
        OperationalError("x", {}, psycopg.errors.LockNotAvailable("lock timeout")),
        OperationalError("x", {}, psycopg.errors.SerializationFailure("serialize")),
        OperationalError("x", {}, psycopg.errors.DeadlockDetected("deadlock")),
        OperationalError("x", {}, psycopg.errors.AdminShutdown("terminating")),
        OperationalError("x", {}, psycopg.OperationalError("consuming input failed")),
        DBAPIError("x", {}, Exception("gone"), connection_invalidated=True),
    ]
    lasting = [
        OperationalError("x", {}, sqlite3.OperationalError("no such table: leads")),
        IntegrityError("x", {}, psycopg.errors.UniqueViolation("duplicate key")),
        DataError("x", {}, psycopg.errors.StringDataRightTruncation("value too long")),
        RuntimeError("a bug"),
    ]
    assert [run.is_temporary(exc) for exc in temporary] == [True] * len(temporary)
    assert [run.is_temporary(exc) for exc in lasting] == [False] * len(lasting)


@pytest.mark.unit
def test_an_interruption_survives_pickling_as_celery_sends_it():
    interrupted = run.IntakeInterrupted.after(7, OperationalError("x", {}, sqlite_busy()))
    again = pickle.loads(pickle.dumps(interrupted))
    assert (
        str(again)
        == str(interrupted)
        == (
            "batch 7 stopped on a temporary database error (OperationalError) "
            "and is still processing"
        )
    )
