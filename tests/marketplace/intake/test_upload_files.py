"""Uploaded and staged lead files: private to the server's user, never named in the session
cookie, and staged ones deleted once abandoned."""

import io
import os
import stat
import time
from pathlib import Path

import pytest

from app.extensions import db
from marketplace.intake import files, tasks
from marketplace.models import Batch
from tests.helpers import bearer, log_in
from tests.leadfiles import csv_bytes, good_row
from tests.marketplace.intake.test_batch_pages import staged_file, step_one, token_of

DAY = 24 * 3600


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def usual_umask():
    """The umask most servers run with (022), which leaves new files readable by everyone."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def test_uploaded_lead_files_are_readable_by_their_owner_only(client, seller, usual_umask):
    headers = bearer(seller)
    as_csv = client.post(
        "/api/v1/batches",
        headers=headers,
        data={
            "vertical": "solar",
            "price_cents": "1500",
            "file": (io.BytesIO(csv_bytes([good_row(1)])), "leads.csv"),
        },
        content_type="multipart/form-data",
    )
    as_json = client.post(
        "/api/v1/batches",
        headers=headers,
        json={"vertical": "solar", "price_cents": 1500, "leads": [good_row(2)]},
    )
    assert (as_csv.status_code, as_json.status_code) == (202, 202)
    for response in (as_csv, as_json):
        batch = db.session.get(Batch, response.get_json()["id"])
        assert mode(batch.source_path) == 0o600, batch.source_format
        assert mode(Path(batch.source_path).parent) & 0o077 == 0


def test_staged_uploads_are_readable_by_their_owner_only(app, client, seller, usual_umask):
    log_in(client, seller)
    first = step_one(client, csv_bytes([good_row(1)]))
    path = staged_file(app, token_of(first))
    assert mode(path) == 0o600
    assert mode(path.parent) == 0o700


def test_the_session_cookie_names_the_staged_upload_by_token_never_by_path(app, client, seller):
    log_in(client, seller)
    first = step_one(client, csv_bytes([good_row(1)]))
    token = token_of(first)
    cookie = client.get_cookie("session").value
    decoded = app.session_interface.get_signing_serializer(app).loads(cookie)
    assert list(decoded["staged_uploads"]) == [token]
    assert "path" not in decoded["staged_uploads"][token]
    assert str(staged_file(app, token).parent) not in str(decoded)
    assert app.config["INSTANCE_DIR"] not in str(decoded)
    # Step 2 still finds the file from the token alone.
    assert client.get(first.headers["Location"]).status_code == 200


def test_staged_uploads_older_than_a_day_are_deleted_periodically(app, client, seller):
    log_in(client, seller)
    old, recent = (token_of(step_one(client, csv_bytes([good_row(n)]))) for n in (1, 2))
    a_day_ago = time.time() - DAY - 60
    os.utime(staged_file(app, old), (a_day_ago, a_day_ago))

    assert tasks.purge_staged_uploads.delay().get() == 1
    assert not staged_file(app, old).exists() and staged_file(app, recent).exists()
    # The seller who comes back to the old one is told it expired and starts again.
    expired = client.get(f"/seller/batches/new/{old}/map")
    assert expired.status_code == 302 and expired.headers["Location"] == "/seller/batches/new"
    assert client.get(f"/seller/batches/new/{recent}/map").status_code == 200
    assert tasks.purge_staged_uploads.delay().get() == 0


def test_the_staged_upload_purge_runs_on_the_beat_schedule(app):
    celery = app.extensions["celery"]
    entry = celery.conf.beat_schedule["purge-staged-uploads"]
    assert entry["task"] == "marketplace.purge_staged_uploads" in celery.tasks
    assert entry["schedule"] <= DAY / 4  # a file never waits much beyond its day
    assert files.STAGED_MAX_AGE.total_seconds() == DAY
