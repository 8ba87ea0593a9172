"""One intake run: read an uploaded file as a stream, check, de-duplicate, score and store it.

The hot path is set-based: rows are checked in memory chunk by chunk, duplicates are found with
one indexed query per chunk, and leads and rejections are inserted with one executemany each.
Each chunk commits together with the batch's counters and progress, guarded by the previous
``processed_rows``, so a crashed run resumes exactly where its last commit ended and two workers
can never both count the same chunk. Nothing of a batch is visible to anyone else until its
status leaves ``processing``.

A temporary database error (lock, deadlock, serialization failure, lost connection) says
nothing about the file: the run stops with ``IntakeInterrupted``, the batch stays
``processing``, and the task's retry or ``flask batches resume`` carries on from the last
committed chunk; so does any failure of the last step (``finish_intake``), which only moves
the batch on. Only an unusable file, or an unexpected error while storing rows, fails a batch.
"""

from __future__ import annotations

import gc
import logging
import sqlite3

from flask import current_app
from sqlalchemy import update
from sqlalchemy.exc import DBAPIError, OperationalError

from app.config import configured_callable
from app.db import transaction, utcnow
from app.extensions import db
from app.settings import get_settings
from marketplace.intake.pipeline import checked_chunks, pool_size
from marketplace.intake.rows import LeadRowFormat
from marketplace.intake.source import FileProblem, inspect_source, iter_rows
from marketplace.intake.store import ProcessingConflict, store_chunk, suppression_sets
from marketplace.models import Batch, SellerAccount
from marketplace.signals import batch_processed
from verification.rules.checks import CheckContext

logger = logging.getLogger(__name__)

# PostgreSQL SQLSTATE classes worth a retry: connection exception, transaction rollback
# (serialization failure, deadlock), insufficient resources, operator intervention (query
# cancelled by a statement or lock timeout, server shutting down); and lock_not_available.
_TEMPORARY_SQLSTATE_CLASSES = ("08", "40", "53", "57")
_TEMPORARY_SQLSTATES = ("55P03",)
_SQLITE_BUSY, _SQLITE_LOCKED = 5, 6


class IntakeInterrupted(Exception):
    """The run stopped on an error that is not the file's: the batch is still processing."""

    def __init__(self, batch_id: int, cause: str):
        super().__init__(batch_id, cause)  # both in args, so the exception pickles (Celery)
        self.batch_id = batch_id

    @classmethod
    def after(cls, batch_id: int, exc: BaseException) -> IntakeInterrupted:
        kind = "a temporary database error" if is_temporary(exc) else "an error"
        return cls(batch_id, f"{kind} ({exc.__class__.__name__})")

    def __str__(self) -> str:
        return f"batch {self.batch_id} stopped on {self.args[1]} and is still processing"


def is_temporary(exc: BaseException) -> bool:
    """A database error that says nothing about the data: the same work may succeed later."""
    if not isinstance(exc, DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    if not isinstance(exc, OperationalError):
        return False  # integrity, data or programming errors repeat on every try
    orig = exc.orig
    if isinstance(orig, sqlite3.Error):
        code = getattr(orig, "sqlite_errorcode", None)
        if code is None:
            return "is locked" in str(orig)
        return code & 0xFF in (_SQLITE_BUSY, _SQLITE_LOCKED)
    state = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    if not state:
        return True  # psycopg gives no SQLSTATE only when the connection itself failed
    return state[:2] in _TEMPORARY_SQLSTATE_CLASSES or state in _TEMPORARY_SQLSTATES


def _fail(batch: Batch, code: str, message: str) -> None:
    batch.status = "failed"
    batch.error_code = code
    batch.error_message = message
    batch.processed_at = utcnow()
    db.session.commit()
    logger.info("batch %s failed: %s %s", batch.id, code, message)


def process_batch(*, batch_id: int, progress=None) -> Batch | None:
    """Run (or resume) intake of one batch. Commits chunk by chunk; see the module docstring.

    ``progress(processed, total)`` is called after each chunk (the CLI's progress bar). Raises
    ``IntakeInterrupted`` on a temporary database error, or when finishing fails, leaving the
    batch to resume.
    """
    try:
        return _process_batch(batch_id, progress)
    except Exception as exc:
        if not is_temporary(exc):
            raise
        db.session.rollback()
        logger.warning(
            "batch %s: stopped on a temporary database error (%s); it stays processing",
            batch_id,
            exc.__class__.__name__,
        )
        raise IntakeInterrupted.after(batch_id, exc) from exc


def _process_batch(batch_id: int, progress) -> Batch | None:
    session = db.session
    batch = session.get(Batch, batch_id)
    if batch is None or batch.status != "processing":
        return batch
    try:
        info = inspect_source(batch)
    except FileProblem as problem:
        _fail(batch, problem.code, problem.message)
        return batch
    except (OSError, ValueError) as exc:
        _fail(batch, "unreadable", f"The uploaded file cannot be read ({exc.__class__.__name__}).")
        return batch
    if batch.total_rows is None:
        batch.total_rows = info.total_rows
        batch.delimiter = info.delimiter
        session.commit()

    settings = get_settings()
    lookback_days = settings.lookback_days
    emails, phones = suppression_sets()
    ctx = CheckContext(
        now=utcnow(),
        max_age_days=batch.vertical.max_lead_age_days,
        required_extra=tuple(batch.vertical.required_columns or ()),
        suppressed_emails=emails,
        suppressed_phones=phones,
        deliverability=configured_callable(current_app.config, "EMAIL_DELIVERABILITY_CHECK"),
        line_type_lookup=configured_callable(current_app.config, "PHONE_LINE_TYPE_LOOKUP"),
    )
    rows = iter_rows(batch, info.headers, batch.processed_rows)
    workers = pool_size(batch.total_rows - batch.processed_rows)
    # Rows are acyclic dicts freed by reference counting; the cycle collector would only
    # rescan them over and over (10-15% of intake time), so it rests until the batch is done.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        fmt = LeadRowFormat.for_batch(batch, now=utcnow(), dialect=db.engine.dialect.name)
        for checked in checked_chunks(rows, ctx, fmt, workers):
            store_chunk(batch, checked, lookback_days)
            session.commit()
            session.refresh(batch)
            if progress:
                progress(batch.processed_rows, batch.total_rows)
    except ProcessingConflict:
        session.rollback()
        logger.warning("batch %s: another run is processing it; this run stops", batch_id)
        return session.get(Batch, batch_id)
    except Exception as exc:
        if is_temporary(exc):
            raise
        session.rollback()
        logger.exception("batch %s: processing died", batch_id)
        batch = session.get(Batch, batch_id)
        _fail(
            batch,
            "processing_error",
            "Processing stopped on an unexpected error; our team has been alerted.",
        )
        return batch
    finally:
        if gc_was_enabled:
            gc.enable()

    return finish_intake(batch)


def finish_intake(batch: Batch) -> Batch:
    """Move a fully processed batch on: spot_check, held, or rejected when nothing was accepted.

    ``batch_processed`` is sent inside this transaction, so what its receivers do commits with
    the new status: verification draws the sample, and no reader ever sees spot_check without
    its plan. If anything here fails, both roll back and the batch stays processing, every row
    stored; nothing of that is the file's fault, so the run is interrupted to be retried.
    """
    batch_id = batch.id
    try:
        with transaction() as session:
            seller = session.get(SellerAccount, batch.seller_id)
            values = {"processed_at": utcnow()}
            if batch.accepted_count == 0:
                values["status"] = "rejected"
                values["decision"] = {
                    "decision": "rejected",
                    "reason": "nothing_accepted",
                    "message": "No row of the file was accepted.",
                }
            elif seller is not None and seller.is_on_hold:
                values["status"] = "held"
            else:
                values["status"] = "spot_check"
            # Conditional on 'processing': of two runs finishing one batch, one moves it on.
            moved = session.execute(
                update(Batch)
                .where(Batch.id == batch_id, Batch.status == "processing")
                .values(**values)
                .execution_options(synchronize_session=False)
            )
            if moved.rowcount != 1:
                return session.get(Batch, batch_id)
            session.refresh(batch)
            if batch.status in ("spot_check", "held"):
                batch_processed.send(batch_id)
    except Exception as exc:
        if not is_temporary(exc):
            logger.exception("batch %s: finishing intake failed; it stays processing", batch_id)
        raise IntakeInterrupted.after(batch_id, exc) from exc
    logger.info(
        "batch %s processed: %s accepted, %s rejected, %s duplicates -> %s",
        batch.id,
        batch.accepted_count,
        batch.rejected_count,
        batch.duplicate_count,
        batch.status,
    )
    return batch
