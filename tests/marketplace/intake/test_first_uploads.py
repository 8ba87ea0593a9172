"""A brand-new seller's first two uploads arriving at the same moment both succeed."""

import io
import threading

from sqlalchemy import event, func, select

from app.extensions import db
from marketplace.intake import run, services
from marketplace.models import Batch, SellerAccount
from tests.helpers import bearer
from tests.leadfiles import csv_bytes, good_row


def test_two_first_uploads_of_a_new_seller_at_once_both_succeed(app, seller, monkeypatch):
    """Both requests find no seller account and create it at once; one row, two 202s.

    A hook holds each request just before it inserts the account until the other one gets
    there too, so both really race for the same row instead of one finishing first. The
    batches are processed afterwards: eager Celery keeps a process-wide flag that two eager
    tasks in two threads at once can leave set (every later result.get() would refuse).
    """
    monkeypatch.setattr(services, "_enqueue", lambda batch: None)
    headers = [bearer(seller), bearer(seller)]
    files = [csv_bytes([good_row(i) for i in range(n, n + 5)]) for n in (0, 100)]
    barrier = threading.Barrier(2)
    waited = threading.local()

    def hold_before_insert(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("INSERT INTO SELLER_ACCOUNTS"):
            if not getattr(waited, "done", False):
                waited.done = True
                try:
                    barrier.wait(timeout=10)
                except threading.BrokenBarrierError:
                    pass  # the other request never got here: nothing left to race

    statuses, errors = {}, []

    def first_upload(n):
        try:
            response = app.test_client().post(
                "/api/v1/batches",
                headers=headers[n],
                data={
                    "vertical": "solar",
                    "price_cents": "1500",
                    "file": (io.BytesIO(files[n]), f"first-{n}.csv"),
                },
                content_type="multipart/form-data",
            )
            statuses[n] = (response.status_code, response.get_json())
        except BaseException as exc:  # reported below
            errors.append(exc)

    event.listen(db.engine, "before_cursor_execute", hold_before_insert)
    try:
        threads = [threading.Thread(target=first_upload, args=(n,)) for n in (0, 1)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    finally:
        event.remove(db.engine, "before_cursor_execute", hold_before_insert)

    assert not errors, errors
    assert [statuses[n][0] for n in (0, 1)] == [202, 202], statuses
    accounts = db.session.scalar(
        select(func.count())
        .select_from(SellerAccount)
        .where(SellerAccount.organization_id == seller.organization_id)
    )
    assert accounts == 1
    for n in (0, 1):
        run.process_batch(batch_id=statuses[n][1]["id"])
    db.session.expire_all()
    batches = db.session.scalars(select(Batch).where(Batch.seller_id == seller.organization_id))
    assert sorted((b.status, b.accepted_count) for b in batches) == [("spot_check", 5)] * 2
