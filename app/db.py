"""The database: ``db``, the declarative base with its naming convention, UTC timestamps, and the
one-transaction-per-use-case helpers (``transaction``, ``in_transaction``, ``end_read``).

``db`` is defined here, beside its base; app/extensions.py re-exports it with the other
extensions, so either import works and neither module imports the other back.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import DateTime, MetaData
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """A timezone-aware UTC datetime on every database.

    SQLite has no time zones, so values are stored as naive UTC there and given their UTC
    offset back when read; PostgreSQL stores ``timestamptz``.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where an aware UTC datetime is required")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)

logger = logging.getLogger(__name__)

# How many ``transaction()`` blocks the session is inside; kept in the session's own info dict.
_DEPTH = "leadex_tx_depth"
# Callbacks to run once the outermost ``transaction()`` has committed (``after_commit``).
_AFTER_COMMIT = "leadex_after_commit"


@contextmanager
def transaction() -> Iterator:
    """One use case, one transaction: commit on success, roll back and re-raise on error.

    Nested calls join the outer transaction, so a service may call another service and still
    commit once. Callbacks given to ``after_commit`` run after the outermost commit, once the
    depth is back to 0 (so they may open transactions of their own); a rollback drops them.
    """
    session = db.session
    depth = session.info.get(_DEPTH, 0)
    session.info[_DEPTH] = depth + 1
    try:
        yield session
        if depth == 0:
            session.commit()
    except BaseException:
        if depth == 0:
            session.info.pop(_AFTER_COMMIT, None)
            session.rollback()
        raise
    finally:
        session.info[_DEPTH] = depth
    if depth == 0:
        _run_after_commit(session)


def after_commit(fn: Callable[[], object]) -> None:
    """Run ``fn()`` after the caller's outermost ``transaction()`` commits; never if it rolls back.

    For work that must only see committed rows, such as queueing a task. Only inside
    ``transaction()``: outside one there is no commit to wait for, so it raises. A callback that
    raises is logged and does not undo the commit, nor stop the other callbacks.
    """
    if not in_transaction():
        raise RuntimeError("after_commit() outside transaction(): there is no commit to follow")
    db.session.info.setdefault(_AFTER_COMMIT, []).append(fn)


def _run_after_commit(session) -> None:
    callbacks = session.info.pop(_AFTER_COMMIT, None) or []
    for fn in callbacks:
        try:
            fn()
        except Exception:  # the transaction has committed; a follow-up must not undo it
            logger.exception("after-commit callback %r failed", fn)


def dialect_insert(model):
    """The database's own INSERT construct (PostgreSQL's or SQLite's), which has
    ``on_conflict_do_nothing``: both dialects speak ``ON CONFLICT``."""
    dialect = db.session.get_bind().dialect.name
    return postgresql.insert(model) if dialect == "postgresql" else sqlite.insert(model)


def insert_if_absent(model, *, key: list[str], **values) -> int | None:
    """``INSERT ... ON CONFLICT (key) DO NOTHING``: a row made on first need, race-free.

    Two first requests at once both get past "is it there?"; the database lets one insert and
    the other do nothing instead of raising IntegrityError. Returns the new row's primary key
    (its first column), or None when the row was already there (select it afterwards if
    needed). Only flushes SQL: call it inside the caller's ``transaction()``.
    """
    session = db.session
    stmt = dialect_insert(model).values(**values).on_conflict_do_nothing(index_elements=key)
    key_column = next(iter(model.__table__.primary_key.columns))
    return session.execute(stmt.returning(key_column)).scalar()


def serialize_writes() -> None:
    """Inside ``transaction()``: make what this transaction reads next the newest committed
    data, and make other writers wait until it ends.

    SQLite ignores ``SELECT ... FOR UPDATE`` and opens its transaction only at the first write,
    so two requests can both read "not bought yet" and then both write. Taking SQLite's write
    lock at once (``BEGIN IMMEDIATE``) queues them instead. On PostgreSQL this does nothing:
    lock the rows that matter with ``FOR UPDATE`` (or a conditional update) as usual.
    """
    connection = db.session.connection()
    if connection.dialect.name != "sqlite":
        return
    # pysqlite opens a transaction only before a write; one already open has written, so it
    # holds the write lock and reads the newest data already.
    if not connection.connection.dbapi_connection.in_transaction:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def in_transaction() -> bool:
    """True inside a ``transaction()`` block: what runs now commits with the caller's work."""
    return db.session.info.get(_DEPTH, 0) > 0


def end_read() -> None:
    """End the session's read (its snapshot and any locks) before a slow outside call.

    The reads of a use case before a Stripe call are committed, so no database transaction
    stays open while Stripe answers. Inside ``transaction()`` that would commit the caller's
    work half-way, so it is refused there.
    """
    if in_transaction():
        raise RuntimeError("end_read() inside transaction(): call it before or after the block")
    db.session.commit()
