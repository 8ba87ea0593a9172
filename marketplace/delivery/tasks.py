"""Celery tasks of delivery: send one attempt; sweep the failed ones whose retry is due."""

from celery import shared_task

from marketplace.delivery import services

SCHEDULE = {
    "delivery-sweep": {"task": "delivery.sweep", "schedule": 30.0},
}


@shared_task(name=services.DELIVER_TASK)
def deliver(attempt_id: int):
    return services.deliver(attempt_id)


@shared_task(name="delivery.sweep")
def sweep():
    return len(services.sweep_due())
