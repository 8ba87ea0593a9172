"""The two-step web upload's staged files: step 1 keeps the file, step 2 turns it into a batch.

A staged upload is a file under ``<upload dir>/staging`` named by a random token, plus an entry
in the browser's signed session cookie under that token with its terms and owner. The cookie
is signed, not encrypted, so it never holds the file's path: the path follows from the token.
Files step 2 never takes are deleted by the periodic ``marketplace.purge_staged_uploads``.
Web only: it reads Flask's ``session``.
"""

from __future__ import annotations

import shutil
import time
from uuid import uuid4

from flask import session

from marketplace.intake.files import create_private, staged_path

# Uploads a browser may leave between step 1 and step 2; older ones are dropped, which keeps
# the session cookie small.
MAX_STAGED = 5
STAGED_KEY = "staged_uploads"


def stage(stream, *, filename: str | None, terms: dict, user_id: int) -> str:
    """Copy the upload to a staging file (as a stream) and remember it in the session.

    ``terms``: vertical, price_cents, max_sales and name, as ``create_csv_batch`` takes them.
    """
    token = uuid4().hex
    with create_private(staged_path(token)) as target:
        shutil.copyfileobj(stream, target, length=1024 * 1024)
    # Entries staged before the cookie stopped carrying paths lose theirs here.
    staged = {
        t: {k: v for k, v in entry.items() if k != "path"}
        for t, entry in (session.get(STAGED_KEY) or {}).items()
    }
    while len(staged) >= MAX_STAGED:
        oldest = min(staged, key=lambda t: staged[t].get("at", 0))
        staged.pop(oldest)
        _discard(oldest)
    staged[token] = {
        "filename": (filename or "upload.csv")[:255],
        **terms,
        "user_id": user_id,
        "at": time.time_ns(),
    }
    session[STAGED_KEY] = staged
    return token


def _discard(token: str) -> None:
    staged_path(token).unlink(missing_ok=True)


def get_staged(token: str, *, user_id: int) -> dict | None:
    """This user's staged upload with its file's ``path``, or None."""
    entry = (session.get(STAGED_KEY) or {}).get(token)
    if not entry or entry.get("user_id") != user_id:
        return None
    # Only tokens stage() made are in the signed session, so the path is one of ours.
    return {**entry, "path": str(staged_path(token))}


def unstage(token: str) -> None:
    """Forget a staged upload and delete its file."""
    staged = dict(session.get(STAGED_KEY) or {})
    entry = staged.pop(token, None)
    session[STAGED_KEY] = staged
    if entry:
        _discard(token)
