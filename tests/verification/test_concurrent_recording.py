"""Two admins recording the last calls of one sample at the same moment: one decision, once."""

import threading

from app.errors import Conflict
from app.extensions import db
from tests.verification.flow import items, record, spot_check, upload
from verification import services


def test_two_admins_recording_at_once_decide_the_batch_once(app, seller, admin):
    batch = upload(seller, 3)  # inspected whole: Ac 0, Re 1
    first, second, third = items(batch.id)
    record(admin, first)
    admin_id, item_ids = admin.id, (second.id, third.id)
    barrier = threading.Barrier(2)
    results = {}

    def work(item_id):
        with app.app_context():
            from app.auth.models import User

            actor = db.session.get(User, admin_id)
            barrier.wait()
            try:
                services.record_outcome(actor=actor, item_id=item_id, outcome="fake")
            except Conflict as exc:
                results[item_id] = exc.code
            else:
                results[item_id] = "recorded"
            finally:
                db.session.remove()

    threads = [threading.Thread(target=work, args=(i,)) for i in item_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(results.values()) == ["not_needed", "recorded"]
    check = spot_check(batch.id)
    assert (check.decision, check.inspected, check.defects) == ("rejected", 2, 1)
    statuses = sorted(item.status for item in items(batch.id))
    assert statuses == ["closed", "done", "done"]
