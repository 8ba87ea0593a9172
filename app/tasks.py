"""The Celery app, bound to the Flask app so every task runs inside an app context."""

from __future__ import annotations

from celery import Celery, Task
from flask import Flask

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
