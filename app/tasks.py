"""The Celery app, bound to the Flask app so every task runs inside an app context, and
``enqueue``, which queues a task by its registered name."""

from __future__ import annotations

from celery import Celery, Task
from celery.result import AsyncResult
from flask import Flask, current_app

TASK_MODULES = ["app.auth.tasks"]

BEAT_SCHEDULE = {
    "purge-dead-tokens": {"task": "accounts.purge_dead_tokens", "schedule": 3600.0},
}


def register_task_module(module: str, schedule: dict | None = None) -> None:
    """Domain packages add their task modules and periodic tasks here from init_app."""
    if module not in TASK_MODULES:
        TASK_MODULES.append(module)
    BEAT_SCHEDULE.update(schedule or {})


def celery_init_app(app: Flask) -> Celery:
    class FlaskTask(Task):
        def __call__(self, *args, **kwargs):
            with app.app_context():
                return self.run(*args, **kwargs)

    celery_app = Celery(app.name, task_cls=FlaskTask)
    celery_app.config_from_object(app.config["CELERY"])
    celery_app.conf.beat_schedule = dict(BEAT_SCHEDULE)
    celery_app.conf.include = list(TASK_MODULES)
    celery_app.set_default()
    for module in TASK_MODULES:
        __import__(module)
    app.extensions["celery"] = celery_app
    return celery_app


def enqueue(name: str, *args, **kwargs) -> AsyncResult:
    """Queue the task registered as ``name`` (``@shared_task(name=...)``) with these arguments.

    By name, so a service never imports its package's task module (which imports the service
    back). It looks the task up in the app's Celery registry and calls ``delay``, so eager mode
    (``task_always_eager``, the tests) runs it at once; ``send_task`` would ignore eager mode.
    A broker that cannot be reached raises here, for the caller to undo what it claimed.
    """
    celery_app: Celery = current_app.extensions["celery"]
    return celery_app.tasks[name].delay(*args, **kwargs)
