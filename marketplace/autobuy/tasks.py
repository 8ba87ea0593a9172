"""Background work of auto-buy: a listed batch's run, and a sweep for runs that were missed."""

from datetime import timedelta

from celery import shared_task

from app.db import utcnow
from marketplace.autobuy import services

# A batch listed this long ago without a run is run by the sweep (a lost or failed enqueue).
SWEEP_WINDOW = timedelta(days=1)
# The sweep leaves a just-listed batch to its own queued run for this long.
SWEEP_GRACE = timedelta(minutes=5)

SCHEDULE = {
    "autobuy-sweep": {"task": "marketplace.autobuy_sweep", "schedule": 600.0},
}


@shared_task(name="marketplace.autobuy_batch", acks_late=True)
def autobuy_batch(batch_id: int) -> int:
    # Idempotent: each purchase has its key, and a batch already run is skipped.
    return services.run_batch(batch_id)


@shared_task(name="marketplace.autobuy_sweep")
def autobuy_sweep() -> int:
    now = utcnow()
    missed = [
        batch_id
        for batch_id in services.missed_batches(since=now - SWEEP_WINDOW)
        if services.listed_before(batch_id, now - SWEEP_GRACE)
    ]
    for batch_id in missed:
        services.run_batch(batch_id)
    return len(missed)
