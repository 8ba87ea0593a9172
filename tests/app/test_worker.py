"""Background work goes through a real broker to a real Celery worker process.

On the embedded default the broker is kombu's filesystem transport; with ``TEST_REDIS_URL``
set (CI does) the same test runs through Redis.
"""

import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from celery import Celery
from sqlalchemy import func, select

from app.auth import services
from app.auth.models import ApiToken
from app.db import utcnow
from app.extensions import db
from tests.helpers import need

ROOT = Path(__file__).resolve().parents[2]


def _redis_up(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=2).ping())
    except redis.RedisError:
        return False


@pytest.fixture
def worker_env(app):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CELERY")}
    env["DATABASE_URL"] = app.config["SQLALCHEMY_DATABASE_URI"]
    env["LEADEX_INSTANCE_DIR"] = app.config["INSTANCE_DIR"]
    redis_url = os.environ.get("TEST_REDIS_URL")
    if redis_url:
        need(_redis_up(redis_url), f"no Redis server answers at {redis_url}")
        env["REDIS_URL"] = redis_url
        conf = {"broker_url": redis_url}
    else:
        conf = {k: v for k, v in app.config["CELERY"].items() if k.startswith("broker")}
    return env, conf


@pytest.mark.worker
def test_task_runs_in_a_separate_worker_process(app, seller, worker_env):
    env, broker_conf = worker_env
    dead, _ = services.create_token(user=seller)
    dead.expires_at = utcnow() - timedelta(days=40)
    db.session.commit()

    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "wsgi:celery_app",
            "worker",
            "--pool=solo",
            "--without-gossip",
            "--without-mingle",
            "--loglevel=INFO",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        producer = Celery("test-producer", set_as_current=False)
        producer.conf.update(broker_conf)
        producer.send_task("accounts.purge_dead_tokens")
        deadline = time.monotonic() + 60
        remaining = 1
        while time.monotonic() < deadline and worker.poll() is None:
            db.session.rollback()  # see the worker's commits
            remaining = db.session.scalar(select(func.count(ApiToken.id)))
            if remaining == 0:
                break
            time.sleep(0.3)
    finally:
        worker.terminate()
        output = worker.communicate(timeout=30)[0]
    assert remaining == 0, f"the worker did not run the task:\n{output[-3000:]}"
    assert "accounts.purge_dead_tokens" in output
