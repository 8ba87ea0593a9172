"""The two-step web upload's staged files: step 1 keeps the file, step 2 turns it into a batch.

A staged upload is a file under ``<upload dir>/staging`` plus an entry in the browser's signed
session cookie naming it, its terms and its owner. Web only: it reads Flask's ``session``.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from uuid import uuid4

from flask import session

from marketplace.intake.services import upload_dir

# Uploads a browser may leave between step 1 and step 2; older ones are dropped, which keeps
# the session cookie small.
MAX_STAGED = 5
STAGED_KEY = "staged_uploads"


def staging_dir() -> Path:
    path = upload_dir() / "staging"
    path.mkdir(parents=True, exist_ok=True)
    return path


def stage(stream, *, filename: str | None, terms: dict, user_id: int) -> str:
    """Copy the upload to a staging file (as a stream) and remember it in the session.

    ``terms``: vertical, price_cents, max_sales and name, as ``create_csv_batch`` takes them.
    """
    token = uuid4().hex
    path = staging_dir() / f"{token}.csv"
    with open(path, "wb") as target:
        shutil.copyfileobj(stream, target, length=1024 * 1024)
    staged = dict(session.get(STAGED_KEY) or {})
    while len(staged) >= MAX_STAGED:
        _discard(staged.pop(min(staged, key=lambda t: staged[t].get("at", 0))))
    staged[token] = {
        "path": str(path),
        "filename": (filename or "upload.csv")[:255],
        **terms,
        "user_id": user_id,
        "at": time.time_ns(),
    }
    session[STAGED_KEY] = staged
    return token


def _is_staging_file(entry: dict) -> bool:
    # The session cookie is signed, so the path is ours; checking the folder costs nothing.
    return Path(entry.get("path", "")).parent == staging_dir()


def _discard(entry: dict) -> None:
    if _is_staging_file(entry):
        Path(entry["path"]).unlink(missing_ok=True)


def get_staged(token: str, *, user_id: int) -> dict | None:
    """This user's staged upload, or None."""
    entry = (session.get(STAGED_KEY) or {}).get(token)
    if not entry or entry.get("user_id") != user_id or not _is_staging_file(entry):
        return None
    return entry


def unstage(token: str) -> None:
    """Forget a staged upload and delete its file."""
    staged = dict(session.get(STAGED_KEY) or {})
    entry = staged.pop(token, None)
    session[STAGED_KEY] = staged
    if entry:
        _discard(entry)
