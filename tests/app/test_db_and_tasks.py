"""The transaction helpers of app/db.py and queuing a task by name through app/tasks.py."""

import pytest
from sqlalchemy import select

from app.auth.models import Organization
from app.db import end_read, in_transaction, insert_if_absent, transaction
from app.extensions import db
from app.tasks import enqueue


def test_in_transaction_is_true_only_inside_a_transaction_block():
    assert not in_transaction()
    with transaction():
        assert in_transaction()
        with transaction():
            assert in_transaction()
        assert in_transaction()
    assert not in_transaction()


def test_end_read_commits_a_read_but_never_a_caller_s_transaction():
    with pytest.raises(RuntimeError):
        with transaction() as session:
            session.add(Organization(name="half done", kind="buyer"))
            session.flush()
            end_read()
    assert db.session.scalar(select(Organization).where(Organization.name == "half done")) is None
    db.session.scalar(select(Organization.id))
    end_read()
    assert not db.session().in_transaction()


def test_insert_if_absent_inserts_once_and_then_does_nothing():
    with transaction():
        org = Organization(name="first", kind="buyer")
        db.session.add(org)
        db.session.flush()
        org_id = org.id
    for name in ("second", "third"):
        with transaction():
            assert (
                insert_if_absent(Organization, key=["id"], id=org_id, name=name, kind="buyer")
                is None
            )
    db.session.expire_all()
    assert db.session.get(Organization, org_id).name == "first"
    with transaction():
        new_id = insert_if_absent(
            Organization, key=["id"], id=org_id + 1, name="new", kind="buyer"
        )
    assert db.session.get(Organization, new_id).name == "new"


def test_enqueue_runs_a_registered_task_by_name_in_eager_mode():
    result = enqueue("billing.release_earnings")
    assert result.successful() and result.get() == 0
    with pytest.raises(KeyError):
        enqueue("no.such.task")
