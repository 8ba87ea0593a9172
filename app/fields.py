"""Fields and converters for ids, bounded to what a database id column holds.

An id past PostgreSQL INTEGER (2**31 - 1) cannot name a row; sent on, it is an ``OverflowError``
on SQLite (past 2**63) or a PostgreSQL range error. In a query parameter it is a 422.
"""

from __future__ import annotations

import marshmallow as ma

from app.http import MAX_DB_ID


class Id(ma.fields.Integer):
    """An id in args schemas: a whole number from 1 to :data:`MAX_DB_ID`, else 422."""

    def __init__(self, *, validate=None, **kwargs):
        extra = [] if validate is None else validate if isinstance(validate, list) else [validate]
        super().__init__(validate=[ma.validate.Range(min=1, max=MAX_DB_ID), *extra], **kwargs)


def db_id(value: str) -> int:
    """For ``request.args.get(name, type=db_id)`` on pages: an id a database column can hold,
    else ValueError (which ``args.get`` turns into its default)."""
    text = value.strip()
    if not text.isdecimal() or len(text) > len(str(MAX_DB_ID)) or int(text) > MAX_DB_ID:
        raise ValueError(f"not an id: {value[:20]!r}")
    return int(text)
