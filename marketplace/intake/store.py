"""Storing a checked chunk: de-duplication, one executemany per table, guarded counters.

The batch's counters advance in the same statement that checks ``processed_rows`` is still
what this run read, so two runs can never both count the same chunk. De-duplication and insert
run under one lock per chunk that every intake takes (``_lock_intakes``), so two intakes that
overlap never both accept one person: the later one finds the earlier one's committed rows.
"""

from __future__ import annotations

import json
from datetime import timedelta
from functools import lru_cache
from operator import itemgetter

from sqlalchemy import ARRAY, any_, bindparam, func, insert, or_, select, update

from app.db import serialize_writes, utcnow
from app.extensions import db
from marketplace.intake.rows import INSERT_COLUMNS
from marketplace.models import VISIBLE_BATCH_STATUSES, Batch, BatchRejection, Lead, Suppression

# Leads of these batches are people already on Leadex: the visible ones, and the committed
# chunks of intakes still running. A batch that ended failed or rejected is off the market, so
# its leads block nobody.
MATCHED_BATCH_STATUSES = (*VISIBLE_BATCH_STATUSES, "processing")
# pg_advisory_xact_lock's key for "an intake is de-duplicating and inserting a chunk".
INTAKE_LOCK_KEY = 0x1EAD_0001


class ProcessingConflict(Exception):
    """Another run already committed this chunk: this run stops."""


class CaseInsensitiveSet(frozenset):
    """Emails compared without case: every real mailbox provider ignores it."""

    def __contains__(self, value) -> bool:
        return isinstance(value, str) and frozenset.__contains__(self, value.lower())


def suppression_sets() -> tuple[frozenset, frozenset]:
    """The whole suppression list as (emails, phones), for the checks' context."""
    emails, phones = set(), set()
    for kind, value in db.session.execute(select(Suppression.kind, Suppression.value)):
        (emails if kind == "email" else phones).add(value.lower() if kind == "email" else value)
    return CaseInsensitiveSet(emails), frozenset(phones)


def _lock_intakes(connection) -> None:
    """Hold intake's lock until this chunk's transaction ends; another intake's chunk waits.

    PostgreSQL: a transaction-scoped advisory lock; in READ COMMITTED each later statement sees
    what the previous holder committed. SQLite: the write lock, taken before the de-duplication
    reads (BEGIN IMMEDIATE), so they cannot come from a snapshot older than the other's commit.
    """
    if connection.dialect.name == "postgresql":
        connection.execute(select(func.pg_advisory_xact_lock(INTAKE_LOCK_KEY)))
    else:
        serialize_writes()


def _existing_matches(batch: Batch, emails: set, phones: set, lookback_days: int) -> tuple:
    """Leads already stored that share an email or phone: this batch's, or others' that count
    (MATCHED_BATCH_STATUSES)."""
    if not emails and not phones:
        return {}, {}
    since = utcnow() - timedelta(days=lookback_days)
    conditions = []
    if emails:
        conditions.append(_one_of(Lead.email, emails))
    if phones:
        conditions.append(_one_of(Lead.phone, phones))
    stmt = (
        select(Lead.id, Lead.batch_id, Lead.seller_id, Lead.row_number, Lead.email, Lead.phone)
        .join(Batch, Batch.id == Lead.batch_id)
        .where(or_(*conditions))
        .where(
            or_(
                Lead.batch_id == batch.id,
                (Batch.status.in_(MATCHED_BATCH_STATUSES)) & (Lead.created_at >= since),
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


def _one_of(column, values: set):
    """``column IN values`` with the values as one parameter: a JSON array on SQLite, an array
    on PostgreSQL.

    An IN list renders and binds a placeholder per value, and each chunk's count made a new
    statement for SQLite to prepare and for its driver to cache (up to 128 of them, about 1 MB
    each at 2,000 values). With one parameter the statement is the same for every chunk, and
    both databases still look each value up in the column's index.
    """
    if db.engine.dialect.name == "sqlite":
        listed = func.json_each(json.dumps(list(values))).table_valued("value")
        return column.in_(select(listed.c.value))
    return column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))


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


def store_chunk(batch: Batch, checked: list[tuple], lookback_days: int) -> None:
    """De-duplicate a checked chunk against stored leads and insert it with the counters.

    Takes intake's lock before reading; the caller's commit (or rollback) releases it.
    """
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
    _lock_intakes(db.session.connection())
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
        _insert_leads(connection, leads)
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


# SQLite, for the connection that stores a batch: chunks insert into the email and phone
# indexes at random places, so with the default 2 MB page cache each chunk reads most of their
# pages back from the file and the cost per row grows with the table (+40% from 100,000 to
# 500,000 leads). 64 MB holds both indexes of a million leads. A checkpoint every 40 MB of WAL
# instead of 4 MB writes a page that several chunks change to the database file once.
# Connection settings, not transactional; the connection keeps them, which suits a worker.
_SQLITE_BULK_PRAGMAS = ("PRAGMA cache_size = -65536", "PRAGMA wal_autocheckpoint = 10000")


def _insert_leads(connection, leads: list[tuple]) -> None:
    """One executemany; a column empty in every row is written as a NULL in the statement.

    A column the file does not have is None in every row, and a driver binds None slower than
    text (sqlite3 looks it up in its adapter registry, for each row); the statement's text
    depends only on which columns are empty, so it is prepared again only when that changes.
    """
    if connection.dialect.name == "sqlite":
        for pragma in _SQLITE_BULK_PRAGMAS:
            connection.exec_driver_sql(pragma)
    width = len(INSERT_COLUMNS)
    empty = frozenset(i for i in range(width) if all(row[i] is None for row in leads))
    if empty:
        # Never every column: the batch's own (batch_id, seller_id, ...) are always set.
        leads = list(map(itemgetter(*(i for i in range(width) if i not in empty)), leads))
    connection.exec_driver_sql(_insert_sql(connection.dialect.paramstyle, empty), leads)


@lru_cache(maxsize=64)
def _insert_sql(paramstyle: str, empty: frozenset) -> str:
    mark = "?" if paramstyle == "qmark" else "%s"
    values = ("NULL" if i in empty else mark for i in range(len(INSERT_COLUMNS)))
    return f"INSERT INTO leads ({', '.join(INSERT_COLUMNS)}) VALUES ({', '.join(values)})"


# For a real-time post, which stores one row the way a chunk does (marketplace/streams).
lock_intakes = _lock_intakes
insert_leads = _insert_leads
