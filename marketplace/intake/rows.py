"""From a raw row to the leads-table tuple: check it, derive its scores, convert for the driver.

Pure, so it runs in a worker process as well as inline (see pipeline.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC

from sqlalchemy import JSON

from app.db import UTCDateTime
from marketplace.derive import derive
from marketplace.models import Batch, Lead
from verification.rules.checks import CheckContext, check_row

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


def check_chunk(chunk: list, ctx: CheckContext, fmt: LeadRowFormat) -> list[tuple]:
    """Check and derive rows: ``(row_number, email, phone, lead_row | None, rejections)``."""
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
