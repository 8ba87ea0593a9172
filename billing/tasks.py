"""Background work of billing: releasing earnings (periodic) and auto-recharge."""

import logging

from celery import shared_task

from billing import services

logger = logging.getLogger(__name__)

RELEASE_EVERY_SECONDS = 900.0
BEAT_SCHEDULE = {
    "release-earnings": {"task": "billing.release_earnings", "schedule": RELEASE_EVERY_SECONDS},
}


@shared_task(name="billing.release_earnings")
def release_earnings() -> int:
    released = services.release_earnings()
    logger.info("released the earnings of %d sales", released)
    return released


@shared_task(name="billing.auto_recharge", acks_late=True)
def auto_recharge(buyer_org_id: int, trigger: int) -> int | None:
    # acks_late: a lost worker leaves the message for another; the trigger number is the
    # top-up's idempotency key, so a second run finds the first top-up instead of charging.
    top_up = services.run_auto_recharge(buyer_org_id=buyer_org_id, trigger=trigger)
    return top_up.id if top_up else None
