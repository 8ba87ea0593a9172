"""From a raw row to the leads-table tuple: check it, derive its scores, convert for the driver.

Pure, so it runs in a worker process as well as inline (see pipeline.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC
from operator import itemgetter

from sqlalchemy import JSON, Boolean

from app.db import UTCDateTime
from marketplace.derive import derive
from marketplace.models import Batch, Lead
from verification.rules.checks import CheckContext, check_row

# Every leads column but the id, in the order of the INSERT statement.
INSERT_COLUMNS = tuple(c.key for c in Lead.__table__.columns if c.key != "id")
_JSON_COLUMNS = frozenset(c.key for c in Lead.__table__.columns if isinstance(c.type, JSON))
_TIME_COLUMNS = frozenset(c.key for c in Lead.__table__.columns if isinstance(c.type, UTCDateTime))
_BOOL_COLUMNS = frozenset(c.key for c in Lead.__table__.columns if isinstance(c.type, Boolean))


@dataclass(frozen=True)
class LeadRowFormat:
    """Builds the leads-table row tuple in the worker, ready for the driver's executemany.

    Doing the type conversions here (JSON text; on SQLite the datetime text and booleans as
    the 1 and 0 SQLAlchemy stores) keeps the parent's per-row work to de-duplication and one
    executemany per chunk: the sqlite3 driver binds an int, str or float at once but sends
    anything else (a bool, None) through its adapter registry first.
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

    def __post_init__(self):
        # Converted in place, by kind; then one itemgetter reads the row in column order.
        as_json, as_time, as_int = [], [], []
        for column in INSERT_COLUMNS:
            if column in self.constants or column == "row_number":
                continue
            if column in _JSON_COLUMNS:
                as_json.append(column)
            elif column in _TIME_COLUMNS:
                as_time.append(column)
            elif column in _BOOL_COLUMNS and self.sqlite:
                as_int.append(column)
        plan = {
            "json": tuple(as_json),
            "time": tuple(as_time),
            "int": tuple(as_int),
            "row": itemgetter(*INSERT_COLUMNS),
            "json_text": {},  # see _json_text
        }
        object.__setattr__(self, "_plan", plan)

    def row(self, number: int, values: dict) -> tuple:
        """The leads row of a lead's ``values`` (by column name), which it converts in place."""
        plan = self._plan
        values.update(self.constants)
        values["row_number"] = number
        get = values.get
        cache = plan["json_text"]
        for column in plan["json"]:
            value = get(column)
            if value is not None:
                values[column] = _json_text(value, cache)
        sqlite = self.sqlite
        for column in plan["time"]:
            value = get(column)
            if value is not None:
                values[column] = _time_value(value, sqlite)
        for column in plan["int"]:
            value = get(column)
            if value is not None:
                values[column] = int(value)
        try:
            return plan["row"](values)
        except KeyError:  # a column the values lack is NULL
            return tuple(get(column) for column in INSERT_COLUMNS)


# Distinct JSON values kept per worker: score breakdowns and signal lists repeat a handful of
# shapes, so the cache stays small; a file of all-different ``extra`` objects stops filling it.
_JSON_CACHE_MAX = 4_096


def _json_text(value, cache: dict) -> str:
    """``json.dumps(value)``, the same text object for equal values of the usual shapes.

    The same object means one dumps per shape and, within a pickled chunk, one copy of it
    (pickle's memo), which keeps the workers' results small for the parent to read.
    """
    if not value and (type(value) is list or type(value) is dict):
        return "[]" if type(value) is list else "{}"
    key = _flat_key(value)
    if key is None:
        return json.dumps(value)
    text = cache.get(key)
    if text is None:
        text = json.dumps(value)
        if len(cache) < _JSON_CACHE_MAX:
            cache[key] = text
    return text


def _flat_key(value) -> tuple | None:
    """A key equal only for values that dump alike: a list of strings (the interest signals)
    or of flat dicts of strings and ints (the score breakdown); None for any other shape.

    Exact types, because True == 1 and 1.0 == 1 but each dumps differently. Cheaper than
    ``repr(value)`` or a dumps, and the breakdown is written for every lead.
    """
    if type(value) is not list:
        return None
    key = []
    for item in value:
        kind = type(item)
        if kind is str:
            key.append(item)
        elif kind is dict:
            items = tuple(item.items())
            for k, v in items:
                if type(k) is not str or (type(v) is not str and type(v) is not int):
                    return None
            key.append(items)
        else:
            return None
    return tuple(key)


_LAST_TIME: list = [None, None]  # (value, text): consented_at is mostly captured_at again


def _time_value(value, sqlite: bool):
    if not sqlite:
        return value if value.tzinfo is UTC else value.astimezone(UTC)
    if value == _LAST_TIME[0]:  # the same instant, so the same UTC text
        return _LAST_TIME[1]
    # The text SQLAlchemy's SQLite DATETIME stores: naive UTC with microseconds.
    text = value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
    _LAST_TIME[:] = (value, text)
    return text


def _convert(column: str, value, sqlite: bool):
    if value is None:
        return None
    if column in _JSON_COLUMNS:
        return json.dumps(value)
    if column in _TIME_COLUMNS:
        return _time_value(value, sqlite)
    if column in _BOOL_COLUMNS and sqlite:
        return int(value)
    return value


def check_chunk(chunk: list, ctx: CheckContext, fmt: LeadRowFormat) -> list[tuple]:
    """Check and derive rows: ``(row_number, email, phone, lead_row | None, rejections)``."""
    out = []
    for number, raw in chunk:
        result = check_row(raw, ctx)
        if result.ok:
            values = result.values
            email, phone = values["email"], values["phone"]
            if email:
                # Stored and matched lower-case, so Ann@x.com and ann@x.com are one person.
                values["email"] = email = email.lower()
            values.update(derive(values))
            out.append((number, email, phone, fmt.row(number, values), ()))
        else:
            problems = [(r.field, r.code, r.message, r.details) for r in result.rejections]
            out.append((number, None, None, None, problems))
    return out
