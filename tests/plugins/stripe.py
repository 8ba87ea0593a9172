"""One local Stripe server (localstripe) per test session, emptied before each test that uses it.

The server is a subprocess on a free port; the app is pointed at it through its config (the
gateway reads config at call time). Nothing is registered with it here: a test that wants
webhook deliveries registers its own endpoint. Without localstripe the Stripe tests skip on a
developer's machine and fail under CI=true.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import requests

from tests.helpers import need


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _localstripe_executable() -> str | None:
    beside_python = Path(sys.executable).parent / "localstripe"
    if beside_python.exists():
        return str(beside_python)
    return shutil.which("localstripe")


@pytest.fixture(scope="session")
def localstripe_url():
    """The base URL of a localstripe started for this session, or None if it cannot run."""
    executable = _localstripe_executable()
    if executable is None:
        yield None
        return
    port = free_port()
    log = tempfile.NamedTemporaryFile(prefix="localstripe-", suffix=".log", delete=False)
    process = subprocess.Popen(
        [executable, "--port", str(port), "--from-scratch"],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    ready = False
    while time.monotonic() < deadline and process.poll() is None:
        try:
            requests.get(f"{url}/js.stripe.com/v3/", timeout=1)
            ready = True
            break
        except requests.RequestException:
            time.sleep(0.1)
    yield url if ready else None
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()
    os.unlink(log.name)


@pytest.fixture
def stripe_server(app, localstripe_url):
    """The local Stripe server, emptied, with the app pointed at it for this test."""
    need(localstripe_url is not None, "localstripe is not installed or did not start")
    requests.delete(f"{localstripe_url}/_config/data", timeout=10).raise_for_status()
    previous = app.config["STRIPE_API_BASE"]
    app.config["STRIPE_API_BASE"] = localstripe_url
    yield localstripe_url
    app.config["STRIPE_API_BASE"] = previous


@pytest.fixture
def stripe_down(app, stripe_server):
    """Point the app at a closed port for the duration of a ``with`` block."""
    from contextlib import contextmanager

    @contextmanager
    def down():
        app.config["STRIPE_API_BASE"] = f"http://127.0.0.1:{free_port()}"
        try:
            yield
        finally:
            app.config["STRIPE_API_BASE"] = stripe_server

    return down
