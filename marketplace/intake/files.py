"""Where intake keeps files: the upload folder, staged web uploads, and files only we can read.

Uploaded lead files hold personal data, so folders are made 0700 and files are created 0600,
whatever the process umask, and exclusively: a file that is already there is never reused.
A staged upload (step 1 of the web upload) that step 2 never took is deleted after a day.
"""

from __future__ import annotations

import logging
import os
import time
from datetime import timedelta
from pathlib import Path
from typing import BinaryIO

from flask import current_app

logger = logging.getLogger(__name__)

STAGED_MAX_AGE = timedelta(days=1)


def upload_dir() -> Path:
    """Where uploaded files are kept: ``UPLOAD_DIR``, or ``<instance>/uploads``."""
    path = Path(
        current_app.config.get("UPLOAD_DIR")
        or Path(current_app.config["INSTANCE_DIR"]) / "uploads"
    )
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def staging_dir() -> Path:
    """Where step 1 of the web upload keeps files until step 2 makes them a batch."""
    path = upload_dir() / "staging"
    path.mkdir(mode=0o700, exist_ok=True)
    return path


def staged_path(token: str) -> Path:
    """The staged file of a staging token (a uuid4 hex, so never a path of its own)."""
    return staging_dir() / f"{token}.csv"


def create_private(path: Path) -> BinaryIO:
    """A new file that only its owner may read (0600), open for writing; fails if it exists."""
    return os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb")


def purge_staged_uploads(*, older_than: timedelta = STAGED_MAX_AGE) -> int:
    """Delete staged uploads older than ``older_than`` (abandoned after step 1); how many."""
    cutoff = time.time() - older_than.total_seconds()
    removed = 0
    for path in staging_dir().glob("*.csv"):
        try:
            if path.is_file() and path.stat().st_mtime < cutoff:
                path.unlink()
                removed += 1
        except FileNotFoundError:
            continue  # step 2 took it in the meantime
    if removed:
        logger.info("deleted %d staged uploads older than %s", removed, older_than)
    return removed
