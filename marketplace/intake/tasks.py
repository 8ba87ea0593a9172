"""Background work of intake: processing an uploaded batch, deleting abandoned staged files."""

from celery import shared_task

from marketplace.intake import files, run

SCHEDULE = {
    "purge-staged-uploads": {"task": "marketplace.purge_staged_uploads", "schedule": 3600.0},
}


# The name predates the sub-package; queued messages and the README use it, so it stays.
@shared_task(
    name="marketplace.process_batch",
    acks_late=True,
    # A temporary database error leaves the batch processing; the retry resumes it after
    # 10 s, 20 s, ... up to 10 minutes apart, about half an hour in all before giving up
    # (then `flask batches resume` finishes it).
    autoretry_for=(run.IntakeInterrupted,),
    retry_backoff=10,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=8,
)
def process_batch(batch_id: int) -> str | None:
    # acks_late: a worker killed mid-batch leaves the message to be redelivered, and the
    # guarded chunk commits make the re-run resume instead of double counting.
    batch = run.process_batch(batch_id=batch_id)
    return batch.status if batch else None


@shared_task(name="marketplace.purge_staged_uploads")
def purge_staged_uploads() -> int:
    # Hourly, for files older than a day: step 1 of a web upload whose step 2 never came.
    return files.purge_staged_uploads()
