"""The uploaded file: its encoding, delimiter, header and size limits, read as a stream.

A file that cannot be used at all raises ``FileProblem``; its rows are checked elsewhere.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

from marketplace.models import Batch
from verification.rules.columns import REQUIRED_COLUMNS, canonical_header

MAX_ROWS = 500_000
MAX_COLUMNS = 200
MAX_FIELD_BYTES = 1_000_000

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
                # A blank line or one of only blank cells is no row; the first cell mostly
                # settles it without a generator per record.
                if record and (record[0].strip() or any(cell.strip() for cell in record)):
                    yield record
        except csv.Error as exc:
            raise FileProblem(
                "malformed_csv", f"The CSV is malformed near line {reader.line_num}: {exc}."
            ) from exc


def _json_records(path: Path) -> Iterator[object]:
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            yield json.loads(line)


def write_json_source(path: Path, leads: list) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        for lead in leads:
            handle.write(json.dumps(lead, ensure_ascii=False, default=str))
            handle.write("\n")


# --- the header ----------------------------------------------------------------------------------


def map_headers(raw_headers: list[str], column_map: dict) -> list[str]:
    mapped = []
    for header in raw_headers:
        target = column_map.get(header.strip())
        mapped.append(target if target else canonical_header(header))
    return mapped


def required_columns(vertical) -> tuple[str, ...]:
    return REQUIRED_COLUMNS + tuple(vertical.required_columns or ())


def missing_columns(headers: list[str], vertical) -> list[str]:
    """The required columns ``headers`` lack; a lead needs an email or a phone."""
    present = set(headers)
    missing = [c for c in required_columns(vertical) if c not in present]
    if "email" not in present and "phone" not in present:
        missing.append("email or phone")
    return missing


def check_headers(headers: list[str], vertical) -> None:
    seen = set()
    for header in headers:
        if header in seen and header:
            raise FileProblem("duplicate_column", f"The column {header!r} appears twice.")
        seen.add(header)
    missing = missing_columns(headers, vertical)
    if missing:
        raise FileProblem(
            "missing_column",
            "The file has no column for: " + ", ".join(missing) + ".",
        )


# --- reading -------------------------------------------------------------------------------------


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


@dataclass(frozen=True)
class RowShape:
    """Turns a file's records into raw rows: a CSV record into a dict keyed by the header.

    Small and picklable, so worker processes can build the rows from compact records.
    """

    headers: tuple[str, ...]
    is_json: bool

    def rows(self, first_number: int, records: list) -> list[tuple[int, object]]:
        """``(row_number, raw row)`` for records numbered from ``first_number``."""
        if self.is_json:
            return list(enumerate(records, start=first_number))
        headers, width = self.headers, len(self.headers)
        out = []
        for number, record in enumerate(records, start=first_number):
            row = dict(zip(headers, record, strict=False))
            if len(record) < width:
                for header in headers[len(record) :]:
                    row[header] = None
            elif len(record) > width:
                for index, value in enumerate(record[width:], start=width + 1):
                    row[f"column_{index}"] = value
            out.append((number, row))
        return out


class RowStream:
    """The file's rows from data row ``start + 1`` on, as ``(row_number, raw row)`` pairs.

    ``chunks()`` hands out the same rows as compact records instead, for ``shape`` to turn
    into rows elsewhere (in a worker process): a list of strings pickles in a fraction of the
    time of a dict, and the parent skips building the dict at all.
    """

    def __init__(self, batch: Batch, headers: list[str], start: int):
        self.shape = RowShape(tuple(headers), batch.source_format == "json")
        # A generator: the file opens on the first row asked for, as a plain generator would.
        self._records = _data_records(batch, start)
        self._next_number = start + 1

    def __iter__(self) -> RowStream:
        return self

    def __next__(self) -> tuple[int, object]:
        record = next(self._records)
        ((number, row),) = self.shape.rows(self._next_number, [record])
        self._next_number += 1
        return number, row

    def chunks(self, size: int) -> Iterator[tuple[int, list]]:
        """``(first_row_number, records)`` of at most ``size`` records each."""
        while records := list(islice(self._records, size)):
            first, self._next_number = self._next_number, self._next_number + len(records)
            yield first, records


def _data_records(batch: Batch, start: int) -> Iterator:
    path = Path(batch.source_path)
    if batch.source_format == "json":
        records = _json_records(path)
    else:
        records = _csv_records(path, batch.delimiter or ",")
        next(records)  # header
    yield from islice(records, start, None)


def iter_rows(batch: Batch, headers: list[str], start: int) -> RowStream:
    """(row_number, raw row) from data row ``start + 1`` on; rows are numbered from 1."""
    return RowStream(batch, headers, start)


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
