"""Batch intake: read an uploaded file as a stream, check, de-duplicate, score and store it.

The hot path is set-based: rows are checked in memory chunk by chunk, duplicates are found with
one indexed query per chunk, and leads and rejections are inserted with one executemany each.
Each chunk commits together with the batch's counters and progress, guarded by the previous
``processed_rows``, so a crashed run resumes exactly where its last commit ended and two workers
can never both count the same chunk. Nothing of a batch is visible to anyone else until its
status leaves ``processing``.
"""

from __future__ import annotations

import csv
import gc
import importlib
import io
import json
import logging
import multiprocessing
import os
from collections import deque
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, timedelta
from itertools import islice
from pathlib import Path

from flask import current_app
from sqlalchemy import JSON, insert, or_, select, update

from app.db import UTCDateTime, utcnow
from app.extensions import db
from app.settings import get_settings
from marketplace.derive import derive
from marketplace.models import (
    VISIBLE_BATCH_STATUSES,
    Batch,
    BatchRejection,
    Lead,
    SellerAccount,
    Suppression,
)
from marketplace.signals import batch_processed
from verification.rules.checks import CheckContext, check_row
from verification.rules.columns import REQUIRED_COLUMNS, canonical_header

logger = logging.getLogger(__name__)

MAX_ROWS = 500_000
MAX_COLUMNS = 200
MAX_FIELD_BYTES = 1_000_000
CHUNK_ROWS = 2_000
# Below this many rows, starting worker processes costs more than it saves.
POOL_MIN_ROWS = 20_000

csv.field_size_limit(MAX_FIELD_BYTES)


class FileProblem(Exception):
    """The file cannot be used at all: the batch fails with this code and message."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class SourceInfo:
    headers: list[str]  # canonical (or extra) name per column, after the seller's mapping
    raw_headers: list[str]
    delimiter: str | None
    total_rows: int


def sniff_delimiter(first_line: str) -> str:
    """Comma unless the header line clearly uses semicolons or tabs (European spreadsheets)."""
    counts = {d: first_line.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=counts.get)
    return best if counts[best] > counts[","] else ","


def _open_text(path: Path):
    # utf-8-sig drops a byte-order mark; strict errors make a non-UTF-8 file fail clearly.
    return open(path, encoding="utf-8-sig", errors="strict", newline="")


def _csv_records(path: Path, delimiter: str) -> Iterator[list[str]]:
    with _open_text(path) as handle:
        reader = csv.reader(handle, delimiter=delimiter)
        try:
            for record in reader:
                if record and any(cell.strip() for cell in record):
                    yield record
        except csv.Error as exc:
            raise FileProblem(
                "malformed_csv", f"The CSV is malformed near line {reader.line_num}: {exc}."
            ) from exc


def _json_records(path: Path) -> Iterator[object]:
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            yield json.loads(line)


def map_headers(raw_headers: list[str], column_map: dict) -> list[str]:
    mapped = []
    for header in raw_headers:
        target = column_map.get(header.strip())
        mapped.append(target if target else canonical_header(header))
    return mapped


def required_columns(vertical) -> tuple[str, ...]:
    return REQUIRED_COLUMNS + tuple(vertical.required_columns or ())


def check_headers(headers: list[str], vertical) -> None:
    seen = set()
    for header in headers:
        if header in seen and header:
            raise FileProblem("duplicate_column", f"The column {header!r} appears twice.")
        seen.add(header)
    missing = [c for c in required_columns(vertical) if c not in seen]
    if "email" not in seen and "phone" not in seen:
        missing.append("email or phone")
    if missing:
        raise FileProblem(
            "missing_column",
            "The file has no column for: " + ", ".join(missing) + ".",
        )


def inspect_source(batch: Batch) -> SourceInfo:
    """First pass over the file: encoding, delimiter, header, size limits. Raises FileProblem."""
    path = Path(batch.source_path)
    if batch.source_format == "json":
        total = 0
        for total, record in enumerate(_json_records(path), start=1):  # noqa: B007
            if isinstance(record, dict) and len(record) > MAX_COLUMNS:
                raise FileProblem(
                    "too_large",
                    f"Lead {total} has {len(record)} fields; at most {MAX_COLUMNS} are allowed.",
                )
        if total == 0:
            raise FileProblem("no_rows", "The batch has no leads.")
        return SourceInfo([], [], None, total)

    try:
        with _open_text(path) as handle:
            first_line = handle.readline()
        if not first_line.strip():
            raise FileProblem(
                "empty_file", "The file is empty: it needs a header row and data rows."
            )
        delimiter = sniff_delimiter(first_line)
        records = _csv_records(path, delimiter)
        raw_headers = [h.strip() for h in next(records)]
        if len(raw_headers) > MAX_COLUMNS:
            raise FileProblem(
                "too_large",
                f"The header has {len(raw_headers)} columns; at most {MAX_COLUMNS} are allowed.",
            )
        headers = map_headers(raw_headers, batch.column_map or {})
        check_headers(headers, batch.vertical)
        total = 0
        for record in records:
            total += 1
            if len(record) > MAX_COLUMNS:
                raise FileProblem(
                    "too_large",
                    f"Row {total} has {len(record)} columns; at most {MAX_COLUMNS} are allowed.",
                )
            if total > MAX_ROWS:
                raise FileProblem(
                    "too_large",
                    f"The file has more than {MAX_ROWS:,} data rows; "
                    "split it into several batches.",
                )
    except UnicodeDecodeError as exc:
        raise FileProblem(
            "not_utf8",
            f"The file is not UTF-8 text (byte {exc.object[exc.start]:#04x} cannot be read); "
            "save it as 'CSV UTF-8' and upload it again.",
        ) from exc
    if total == 0:
        raise FileProblem("no_rows", "The file has a header row but no data rows.")
    return SourceInfo(headers, raw_headers, delimiter, total)


def iter_rows(batch: Batch, headers: list[str], start: int) -> Iterator[tuple[int, object]]:
    """(row_number, raw row) from data row ``start + 1`` on; rows are numbered from 1."""
    path = Path(batch.source_path)
    if batch.source_format == "json":
        records = _json_records(path)
    else:
        records = _csv_records(path, batch.delimiter or ",")
        next(records)  # header
    width = len(headers)
    for number, record in enumerate(islice(records, start, None), start=start + 1):
        if batch.source_format == "json":
            yield number, record
            continue
        row = dict(zip(headers, record, strict=False))
        if len(record) < width:
            for header in headers[len(record) :]:
                row[header] = None
        elif len(record) > width:
            for index, value in enumerate(record[width:], start=width + 1):
                row[f"column_{index}"] = value
        yield number, row


class CaseInsensitiveSet(frozenset):
    """Emails compared without case: every real mailbox provider ignores it."""

    def __contains__(self, value) -> bool:
        return isinstance(value, str) and frozenset.__contains__(self, value.lower())


def _pluggable(setting: str):
    """A network check named in config as 'module:function' (off unless configured)."""
    target = current_app.config.get(setting)
    if not target:
        return None
    if callable(target):
        return target
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


def _suppression_sets() -> tuple[frozenset, frozenset]:
    emails, phones = set(), set()
    for kind, value in db.session.execute(select(Suppression.kind, Suppression.value)):
        (emails if kind == "email" else phones).add(value.lower() if kind == "email" else value)
    return CaseInsensitiveSet(emails), frozenset(phones)


def _existing_matches(batch: Batch, emails: set, phones: set, lookback_days: int) -> tuple:
    """Leads already stored that share an email or phone: this batch's, or visible others'."""
    if not emails and not phones:
        return {}, {}
    since = utcnow() - timedelta(days=lookback_days)
    conditions = []
    if emails:
        conditions.append(Lead.email.in_(emails))
    if phones:
        conditions.append(Lead.phone.in_(phones))
    stmt = (
        select(Lead.id, Lead.batch_id, Lead.seller_id, Lead.row_number, Lead.email, Lead.phone)
        .join(Batch, Batch.id == Lead.batch_id)
        .where(or_(*conditions))
        .where(
            or_(
                Lead.batch_id == batch.id,
                (Batch.status.in_(VISIBLE_BATCH_STATUSES)) & (Lead.created_at >= since),
            )
        )
    )
    by_email, by_phone = {}, {}
    for match in db.session.execute(stmt):
        if match.email in emails:
            by_email.setdefault(match.email, match)
        if match.phone in phones:
            by_phone.setdefault(match.phone, match)
    return by_email, by_phone


def _duplicate_rejection(batch: Batch, row_number: int, field: str, value: str, match) -> dict:
    if isinstance(match, int):  # an earlier row of this chunk
        code, details = "duplicate_in_batch", {"row": match}
        message = f"{field} {value!r} already appears in row {match} of this file"
    elif match.batch_id == batch.id:
        code, details = "duplicate_in_batch", {"row": match.row_number}
        message = f"{field} {value!r} already appears in row {match.row_number} of this file"
    elif match.seller_id == batch.seller_id:
        code, details = "duplicate", {"lead_id": match.id, "batch_id": match.batch_id}
        message = f"{field} {value!r} is already in your batch {match.batch_id}"
    else:
        # Another seller's lead: say that it exists, never which one it is.
        code, details = "duplicate", {"matched": field}
        message = f"{field} {value!r} is already on Leadex"
    return {
        "batch_id": batch.id,
        "row_number": row_number,
        "field": field,
        "code": code,
        "message": message,
        "details": details,
    }


# Every leads column but the id, in the order of the INSERT statement.
INSERT_COLUMNS = tuple(c.key for c in Lead.__table__.columns if c.key != "id")
_JSON_COLUMNS = frozenset(c.key for c in Lead.__table__.columns if isinstance(c.type, JSON))
_TIME_COLUMNS = frozenset(c.key for c in Lead.__table__.columns if isinstance(c.type, UTCDateTime))


@dataclass(frozen=True)
class LeadRowFormat:
    """Builds the leads-table row tuple in the worker, ready for the driver's executemany.

    Doing the type conversions here (JSON text, SQLite's datetime text) keeps the parent's
    per-row work to de-duplication and one executemany per chunk.
    """

    constants: dict
    sqlite: bool

    @classmethod
    def for_batch(cls, batch: Batch, *, now, dialect: str) -> LeadRowFormat:
        # The columns a batch sets for all its leads; the rest come from the row.
        constants = {
            "batch_id": batch.id, "seller_id": batch.seller_id,
            "vertical_id": batch.vertical_id, "status": "pending", "is_paused": False,
            "price_cents": batch.price_cents, "currency": batch.currency,
            "max_sales": batch.max_sales, "sales_count": 0, "created_at": now, "listed_at": None,
        }  # fmt: skip
        sqlite = dialect == "sqlite"
        return cls({k: _convert(k, v, sqlite) for k, v in constants.items()}, sqlite)

    def row(self, number: int, values: dict) -> tuple:
        constants, sqlite = self.constants, self.sqlite
        out = []
        for column in INSERT_COLUMNS:
            if column in constants:
                out.append(constants[column])
            elif column == "row_number":
                out.append(number)
            else:
                out.append(_convert(column, values.get(column), sqlite))
        return tuple(out)


def _convert(column: str, value, sqlite: bool):
    if value is None:
        return None
    if column in _JSON_COLUMNS:
        return json.dumps(value)
    if column in _TIME_COLUMNS:
        value = value.astimezone(UTC)
        # The text SQLAlchemy's SQLite DATETIME stores: naive UTC with microseconds.
        return value.strftime("%Y-%m-%d %H:%M:%S.%f") if sqlite else value
    return value


def check_chunk(
    chunk: list, ctx: CheckContext | None = None, fmt: LeadRowFormat | None = None
) -> list[tuple]:
    """Check and derive rows: ``(row_number, email, phone, lead_row | None, rejections)``.

    Pure, so it runs in a worker process as well as inline.
    """
    ctx = ctx or _WORKER_STATE["ctx"]
    fmt = fmt or _WORKER_STATE["fmt"]
    out = []
    for number, raw in chunk:
        result = check_row(raw, ctx)
        if result.ok:
            values = result.values
            if values["email"]:
                # Stored and matched lower-case, so Ann@x.com and ann@x.com are one person.
                values["email"] = values["email"].lower()
            row = fmt.row(number, {**values, **derive(values)})
            out.append((number, values["email"], values["phone"], row, ()))
        else:
            problems = [(r.field, r.code, r.message, r.details) for r in result.rejections]
            out.append((number, None, None, None, problems))
    return out


_WORKER_STATE: dict = {"ctx": None, "fmt": None}


def _init_worker(ctx: CheckContext, fmt: LeadRowFormat) -> None:
    _WORKER_STATE.update(ctx=ctx, fmt=fmt)
    gc.disable()  # see process_batch


class ProcessingConflict(Exception):
    """Another run already committed this chunk: this run stops."""


def _store_chunk(batch: Batch, checked: list[tuple], lookback_days: int) -> None:
    """De-duplicate a checked chunk against stored leads and insert it with the counters."""
    rejections: list[dict] = []
    rejected = 0
    accepted_rows = []
    for number, email, phone, row, problems in checked:
        if row is not None:
            accepted_rows.append((number, email, phone, row))
        else:
            rejected += 1
            rejections.extend(
                {
                    "batch_id": batch.id,
                    "row_number": number,
                    "field": field,
                    "code": code,
                    "message": message,
                    "details": details,
                }
                for field, code, message, details in problems
            )

    emails = {email for _, email, _, _ in accepted_rows if email}
    phones = {phone for _, _, phone, _ in accepted_rows if phone}
    by_email, by_phone = _existing_matches(batch, emails, phones, lookback_days)
    leads, duplicates = [], 0
    for number, email, phone, row in accepted_rows:
        match = None
        if email and email in by_email:
            match = ("email", email, by_email[email])
        elif phone and phone in by_phone:
            match = ("phone", phone, by_phone[phone])
        if match:
            duplicates += 1
            rejections.append(_duplicate_rejection(batch, number, *match))
            continue
        # Later rows of this chunk see this one as their original.
        if email:
            by_email[email] = number
        if phone:
            by_phone[phone] = number
        leads.append(row)

    connection = db.session.connection()
    if leads:
        connection.exec_driver_sql(_insert_sql(connection.dialect), leads)
    if rejections:
        connection.execute(insert(BatchRejection), rejections)
    start = batch.processed_rows
    result = connection.execute(
        update(Batch)
        .where(Batch.id == batch.id, Batch.processed_rows == start)
        .values(
            processed_rows=start + len(checked),
            accepted_count=Batch.accepted_count + len(leads),
            rejected_count=Batch.rejected_count + rejected,
            duplicate_count=Batch.duplicate_count + duplicates,
        )
    )
    if result.rowcount != 1:
        raise ProcessingConflict(f"batch {batch.id} was advanced by another run")


def _insert_sql(dialect) -> str:
    mark = "?" if dialect.paramstyle == "qmark" else "%s"
    columns = ", ".join(INSERT_COLUMNS)
    return f"INSERT INTO leads ({columns}) VALUES ({', '.join([mark] * len(INSERT_COLUMNS))})"


def _pool_size(total_rows: int) -> int:
    """Worker processes for checking: none for small files or inside a daemonic worker."""
    configured = current_app.config.get("INTAKE_WORKERS")
    workers = (os.cpu_count() or 1) if configured is None else int(configured)
    if workers < 2 or total_rows < POOL_MIN_ROWS or multiprocessing.current_process().daemon:
        return 0
    return workers


def _checked_chunks(
    rows: Iterator, ctx: CheckContext, fmt: LeadRowFormat, workers: int
) -> Iterator[list[tuple]]:
    """Checked chunks in file order; with workers, checking runs ahead of the database work."""
    chunks = iter(lambda: list(islice(rows, CHUNK_ROWS)), [])
    if not workers:
        for chunk in chunks:
            yield check_chunk(chunk, ctx, fmt)
        return
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(
        max_workers=workers, mp_context=context, initializer=_init_worker, initargs=(ctx, fmt)
    ) as pool:
        pending: deque = deque()
        for chunk in chunks:
            pending.append(pool.submit(check_chunk, chunk))
            if len(pending) > workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def _fail(batch: Batch, code: str, message: str) -> None:
    batch.status = "failed"
    batch.error_code = code
    batch.error_message = message
    batch.processed_at = utcnow()
    db.session.commit()
    logger.info("batch %s failed: %s %s", batch.id, code, message)


def process_batch(*, batch_id: int, progress=None) -> Batch | None:
    """Run (or resume) intake of one batch. Commits chunk by chunk; see the module docstring.

    ``progress(processed, total)`` is called after each chunk (the CLI's progress bar).
    """
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
    emails, phones = _suppression_sets()
    ctx = CheckContext(
        now=utcnow(),
        max_age_days=batch.vertical.max_lead_age_days,
        required_extra=tuple(batch.vertical.required_columns or ()),
        suppressed_emails=emails,
        suppressed_phones=phones,
        deliverability=_pluggable("EMAIL_DELIVERABILITY_CHECK"),
        line_type_lookup=_pluggable("PHONE_LINE_TYPE_LOOKUP"),
    )
    rows = iter_rows(batch, info.headers, batch.processed_rows)
    workers = _pool_size(batch.total_rows - batch.processed_rows)
    # Rows are acyclic dicts freed by reference counting; the cycle collector would only
    # rescan them over and over (10-15% of intake time), so it rests until the batch is done.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        fmt = LeadRowFormat.for_batch(batch, now=utcnow(), dialect=db.engine.dialect.name)
        for checked in _checked_chunks(rows, ctx, fmt, workers):
            _store_chunk(batch, checked, lookback_days)
            session.commit()
            session.refresh(batch)
            if progress:
                progress(batch.processed_rows, batch.total_rows)
    except ProcessingConflict:
        session.rollback()
        logger.warning("batch %s: another run is processing it; this run stops", batch_id)
        return session.get(Batch, batch_id)
    except Exception:
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
    seller = db.session.get(SellerAccount, batch.seller_id)
    if batch.accepted_count == 0:
        batch.status = "rejected"
        batch.decision = {
            "decision": "rejected",
            "reason": "nothing_accepted",
            "message": "No row of the file was accepted.",
        }
    elif seller is not None and seller.is_on_hold:
        batch.status = "held"
    else:
        batch.status = "spot_check"
    batch.processed_at = utcnow()
    db.session.commit()
    logger.info(
        "batch %s processed: %s accepted, %s rejected, %s duplicates -> %s",
        batch.id,
        batch.accepted_count,
        batch.rejected_count,
        batch.duplicate_count,
        batch.status,
    )
    if batch.status in ("spot_check", "held"):
        batch_processed.send(batch.id)
    return batch


def write_json_source(path: Path, leads: list) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        for lead in leads:
            handle.write(json.dumps(lead, ensure_ascii=False, default=str))
            handle.write("\n")


def preview_csv(path: Path, rows: int = 5) -> tuple[list[str], list[list[str]], str]:
    """Header and first rows of a staged CSV for the mapping step. Raises FileProblem."""
    try:
        with _open_text(path) as handle:
            first_line = handle.readline()
            if not first_line.strip():
                raise FileProblem("empty_file", "The file is empty.")
            delimiter = sniff_delimiter(first_line)
            handle.seek(0)
            reader = csv.reader(io.StringIO(handle.read(256 * 1024)), delimiter=delimiter)
            header = next(reader)
            if len(header) > MAX_COLUMNS:
                raise FileProblem(
                    "too_large",
                    f"The header has {len(header)} columns; at most {MAX_COLUMNS} are allowed.",
                )
            sample = []
            for record in reader:
                if len(sample) >= rows:
                    break
                if record:
                    sample.append(record[:MAX_COLUMNS])
    except UnicodeDecodeError as exc:
        raise FileProblem(
            "not_utf8", "The file is not UTF-8 text; save it as 'CSV UTF-8'."
        ) from exc
    except csv.Error as exc:
        raise FileProblem("malformed_csv", f"The CSV is malformed: {exc}.") from exc
    return [h.strip() for h in header], sample, delimiter
