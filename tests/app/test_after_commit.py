"""``after_commit``: callbacks run after the outermost commit, never after a rollback."""

import pytest

from app.db import after_commit, in_transaction, transaction
from app.extensions import db
from marketplace import services as market_services
from marketplace import standing
from marketplace.models import Batch
from tests.verification.flow import upload


def test_callbacks_run_after_the_outermost_commit(app):
    ran = []
    with transaction():
        with transaction():
            after_commit(lambda: ran.append(("inner", in_transaction())))
        assert ran == []  # the inner block joined the outer one: nothing committed yet
        after_commit(lambda: ran.append(("outer", in_transaction())))
        assert ran == []
    # In order, with the depth back to 0 so they may open transactions of their own.
    assert ran == [("inner", False), ("outer", False)]


def test_a_rollback_drops_the_callbacks(app):
    ran = []
    with pytest.raises(ValueError), transaction():
        after_commit(lambda: ran.append(1))
        raise ValueError
    with transaction():
        pass
    assert ran == []


def test_a_failing_callback_does_not_undo_the_commit_or_stop_the_others(app):
    ran = []
    with transaction():
        after_commit(lambda: 1 / 0)
        after_commit(lambda: ran.append(1))
    assert ran == [1]


def test_after_commit_outside_a_transaction_is_refused(app):
    with pytest.raises(RuntimeError):
        after_commit(lambda: None)


def test_listing_a_batch_queues_auto_buy_only_after_the_commit(app, seller, monkeypatch):
    queued = []
    monkeypatch.setattr(standing, "enqueue", lambda name, *args: queued.append((name, args)))
    batch = upload(seller, 3)
    assert batch.status == "spot_check"
    with pytest.raises(RuntimeError), transaction():
        market_services.list_batch(batch_id=batch.id)
        raise RuntimeError("the decision failed")
    assert queued == []
    db.session.expire_all()
    assert db.session.get(Batch, batch.id).status == "spot_check"
    with transaction():
        market_services.list_batch(batch_id=batch.id)
        assert queued == []
    assert queued == [("marketplace.autobuy_batch", (batch.id,))]
