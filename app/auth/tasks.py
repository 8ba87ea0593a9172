"""Background work for accounts."""

import logging

from celery import shared_task

from app.auth import services

logger = logging.getLogger(__name__)


@shared_task(name="accounts.purge_dead_tokens")
def purge_dead_tokens() -> int:
    removed = services.purge_dead_tokens()
    logger.info("purged %d dead API tokens", removed)
    return removed
