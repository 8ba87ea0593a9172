"""CSV downloads that spreadsheets cannot execute: formula-looking cells are defused."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from flask import Response, stream_with_context

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value) -> str:
    """A cell as text; one that a spreadsheet would run as a formula gets a leading quote."""
    if value is None:
        return ""
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def csv_response(header: list[str], rows: Iterable[Iterable], filename: str) -> Response:
    """Stream rows as a CSV download without building the file in memory."""

    def generate():
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(header)
        yield "\ufeff" + buffer.getvalue()  # BOM: spreadsheets then read the file as UTF-8
        for row in rows:
            buffer.seek(0)
            buffer.truncate()
            writer.writerow([safe_cell(v) for v in row])
            yield buffer.getvalue()

    return Response(
        stream_with_context(generate()),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
