"""Background work of the market: batch intake."""

from celery import shared_task

from marketplace import intake


@shared_task(name="marketplace.process_batch", acks_late=True)
def process_batch(batch_id: int) -> str | None:
    # acks_late: a worker killed mid-batch leaves the message to be redelivered, and the
    # guarded chunk commits make the re-run resume instead of double counting.
    batch = intake.process_batch(batch_id=batch_id)
    return batch.status if batch else None
