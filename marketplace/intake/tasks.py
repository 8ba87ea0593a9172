"""Background work of intake: processing an uploaded batch."""

from celery import shared_task

from marketplace.intake import run


# The name predates the sub-package; queued messages and the README use it, so it stays.
@shared_task(name="marketplace.process_batch", acks_late=True)
def process_batch(batch_id: int) -> str | None:
    # acks_late: a worker killed mid-batch leaves the message to be redelivered, and the
    # guarded chunk commits make the re-run resume instead of double counting.
    batch = run.process_batch(batch_id=batch_id)
    return batch.status if batch else None
