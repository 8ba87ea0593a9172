"""Checking a file's rows chunk by chunk, inline or in a pool of worker processes.

Checking is pure CPU work on rows the parent reads; with workers it runs ahead of the parent's
database work, and chunks still come back in file order. The parent is the one process that
writes, so it does as little else as it can: it sends each worker the file's records as they
were read (lists of strings), and the worker makes the rows of them.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
from collections import deque
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from itertools import islice

from flask import current_app

from marketplace.intake.rows import LeadRowFormat, check_chunk
from marketplace.intake.source import RowShape, RowStream
from verification.rules.checks import CheckContext

CHUNK_ROWS = 2_000
# Below this many rows, starting worker processes costs more than it saves.
POOL_MIN_ROWS = 20_000

# Checked chunks a worker may hold ahead of the parent: enough that a worker never waits for
# the parent to take a result while the parent stores the one before.
AHEAD_PER_WORKER = 2

_WORKER_STATE: dict = {"ctx": None, "fmt": None, "shape": None}


def _init_worker(ctx: CheckContext, fmt: LeadRowFormat, shape: RowShape | None) -> None:
    _WORKER_STATE.update(ctx=ctx, fmt=fmt, shape=shape)
    gc.disable()  # see run.process_batch


def _check_in_worker(chunk: list) -> list[tuple]:
    return check_chunk(chunk, _WORKER_STATE["ctx"], _WORKER_STATE["fmt"])


def _check_records_in_worker(first_number: int, records: list) -> list[tuple]:
    rows = _WORKER_STATE["shape"].rows(first_number, records)
    return check_chunk(rows, _WORKER_STATE["ctx"], _WORKER_STATE["fmt"])


def pool_size(total_rows: int) -> int:
    """Worker processes for checking: none for small files or inside a daemonic worker."""
    configured = current_app.config.get("INTAKE_WORKERS")
    workers = (os.cpu_count() or 1) if configured is None else int(configured)
    if workers < 2 or total_rows < POOL_MIN_ROWS or multiprocessing.current_process().daemon:
        return 0
    return workers


def checked_chunks(
    rows: Iterator, ctx: CheckContext, fmt: LeadRowFormat, workers: int
) -> Iterator[list[tuple]]:
    """Checked chunks in file order; with workers, checking runs ahead of the database work."""
    for checked in _checked_chunks(rows, ctx, fmt, workers):
        yield checked
        # Back here, the caller has stored the chunk. While the cycle collector rests (see
        # run.process_batch), the statements SQLAlchemy built for it are cyclic garbage that
        # holds the chunk's emails and phones: 12 MB per 100,000 rows kept to the end of the
        # batch. The young generation is only what this chunk left, so it is quick to scan.
        gc.collect(0)


def _checked_chunks(
    rows: Iterator, ctx: CheckContext, fmt: LeadRowFormat, workers: int
) -> Iterator[list[tuple]]:
    if not workers:
        for chunk in iter(lambda: list(islice(rows, CHUNK_ROWS)), []):
            yield check_chunk(chunk, ctx, fmt)
        return
    if isinstance(rows, RowStream):
        shape, tasks = (
            rows.shape,
            ((_check_records_in_worker, *c) for c in rows.chunks(CHUNK_ROWS)),
        )
    else:
        chunks = iter(lambda: list(islice(rows, CHUNK_ROWS)), [])
        shape, tasks = None, ((_check_in_worker, chunk) for chunk in chunks)
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(
        max_workers=workers,
        mp_context=context,
        initializer=_init_worker,
        initargs=(ctx, fmt, shape),
    ) as pool:
        pending: deque = deque()
        for task in tasks:
            pending.append(pool.submit(*task))
            if len(pending) > workers * AHEAD_PER_WORKER:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
