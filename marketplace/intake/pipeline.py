"""Checking a file's rows chunk by chunk, inline or in a pool of worker processes.

Checking is pure CPU work on rows the parent reads; with workers it runs ahead of the parent's
database work, and chunks still come back in file order.
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
from verification.rules.checks import CheckContext

CHUNK_ROWS = 2_000
# Below this many rows, starting worker processes costs more than it saves.
POOL_MIN_ROWS = 20_000

_WORKER_STATE: dict = {"ctx": None, "fmt": None}


def _init_worker(ctx: CheckContext, fmt: LeadRowFormat) -> None:
    _WORKER_STATE.update(ctx=ctx, fmt=fmt)
    gc.disable()  # see run.process_batch


def _check_in_worker(chunk: list) -> list[tuple]:
    return check_chunk(chunk, _WORKER_STATE["ctx"], _WORKER_STATE["fmt"])


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
            pending.append(pool.submit(_check_in_worker, chunk))
            if len(pending) > workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
