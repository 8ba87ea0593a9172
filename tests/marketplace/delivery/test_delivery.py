"""Webhook delivery of bought leads to a real local HTTP receiver that checks the signature."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import socket
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from app.config import from_env
from app.db import utcnow
from app.extensions import db
from marketplace.delivery import services as delivery
from marketplace.delivery.models import DeliveryAttempt
from marketplace.purchases.models import PurchasedLead
from tests.billing.helpers import fund_wallet
from tests.helpers import make_user
from tests.marketplace.purchases.helpers import listed_leads


def verifies(secret: str, header: str, body: bytes) -> bool:
    """What a receiver does: parse ``t=...,v1=...`` and compare the HMAC of ``"<t>.<body>"``."""
    parts = dict(part.split("=", 1) for part in header.split(","))
    expected = hmac.new(secret.encode(), parts["t"].encode() + b"." + body, hashlib.sha256)
    return hmac.compare_digest(expected.hexdigest(), parts["v1"])


class Receiver:
    """An HTTP server on 127.0.0.1, port 0, answering each POST with the next status given."""

    def __init__(self, statuses=(200,)):
        self.statuses = list(statuses)
        self.requests: list[tuple[dict, bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.requests.append((dict(self.headers), body))
                status = (
                    receiver.statuses.pop(0)
                    if len(receiver.statuses) > 1
                    else (receiver.statuses[0])
                )
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    made = []

    def make(statuses=(200,)):
        made.append(Receiver(statuses))
        return made[-1]

    yield make
    for one in made:
        one.close()


def set_url(client, headers, url, **extra):
    return client.put("/api/v1/delivery", json={"url": url, **extra}, headers=headers)


def buy_one(client, headers, seller, admin, buyer, *, price_cents=1000):
    leads = listed_leads(seller, admin, 1, price_cents=price_cents)
    fund_wallet(buyer.organization_id, 10_000)
    response = client.post("/api/v1/purchases", json={"lead_ids": [leads[0].id]}, headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json(), leads[0]


def attempts(client, headers):
    response = client.get("/api/v1/delivery/attempts", headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["items"]


def test_a_purchase_is_delivered_signed(client, buyer, seller, admin, auth, receiver):
    hook = receiver([200])
    headers = auth(buyer)
    assert client.get("/api/v1/delivery", headers=headers).get_json() == {
        "url": None, "active": False,
    }  # fmt: skip
    first = set_url(client, headers, hook.url)
    assert first.status_code == 200, first.get_json()
    secret = first.get_json()["secret"]
    assert secret.startswith("whsec_") and first.get_json()["url"] == hook.url
    again = set_url(client, headers, hook.url).get_json()
    assert "secret" not in again  # shown once
    assert client.get("/api/v1/delivery", headers=headers).get_json() == {
        "url": hook.url, "active": True,
    }  # fmt: skip

    purchase, lead = buy_one(client, headers, seller, admin, buyer)
    assert len(hook.requests) == 1
    sent_headers, body = hook.requests[0]
    assert verifies(secret, sent_headers["Leadex-Signature"], body)
    payload = json.loads(body)
    assert payload["event"] == "lead.purchased" and payload["purchase_id"] == purchase["id"]
    assert payload["lead"]["id"] == lead.id and payload["lead"]["contact"]["email"] == lead.email
    [row] = attempts(client, headers)
    assert row["status"] == "delivered" and row["http_status"] == 200 and row["attempt"] == 1
    assert row["purchase_id"] == purchase["id"] and row["lead_id"] == lead.id
    assert row["next_retry_at"] is None and row["error"] is None


def test_no_url_no_delivery(client, buyer, seller, admin, auth):
    buy_one(client, auth(buyer), seller, admin, buyer)
    assert db.session.scalars(select(DeliveryAttempt)).all() == []


def test_failing_receiver_is_retried_with_backoff_then_gives_up(
    client, buyer, seller, admin, auth, receiver
):
    hook = receiver([500])
    headers = auth(buyer)
    set_url(client, headers, hook.url)
    purchase, lead = buy_one(client, headers, seller, admin, buyer)
    [first] = attempts(client, headers)
    assert first["status"] == "failed" and first["http_status"] == 500
    assert first["next_retry_at"] is not None
    # Not due yet: a sweep 30 s later sends nothing.
    assert delivery.sweep_due(now=utcnow() + timedelta(seconds=30)) == []
    assert len(hook.requests) == 1
    for _ in range(delivery.MAX_ATTEMPTS - 1):
        assert len(delivery.sweep_due(now=utcnow() + timedelta(days=1))) == 1
    assert delivery.sweep_due(now=utcnow() + timedelta(days=2)) == []
    assert len(hook.requests) == delivery.MAX_ATTEMPTS
    rows = attempts(client, headers)
    assert [r["attempt"] for r in rows] == list(range(delivery.MAX_ATTEMPTS, 0, -1))
    assert rows[0]["status"] == "gave_up" and rows[0]["next_retry_at"] is None
    assert all(r["status"] == "failed" for r in rows[1:])
    # The purchase stands.
    db.session.expire_all()
    assert db.session.scalar(select(PurchasedLead).where(PurchasedLead.lead_id == lead.id))
    got = client.get(f"/api/v1/purchases/{purchase['id']}", headers=headers)
    assert got.status_code == 200 and got.get_json()["status"] == "completed"


def test_the_back_off_grows(client, buyer, seller, admin, auth, receiver):
    hook = receiver([500])
    headers = auth(buyer)
    set_url(client, headers, hook.url)
    buy_one(client, headers, seller, admin, buyer)
    waits = []
    for _ in range(delivery.MAX_ATTEMPTS - 1):
        db.session.expire_all()
        last = db.session.scalars(
            select(DeliveryAttempt).order_by(DeliveryAttempt.id.desc())
        ).first()
        waits.append((last.next_retry_at - last.created_at).total_seconds())
        delivery.sweep_due(now=utcnow() + timedelta(days=1))
    assert [round(w, -1) for w in waits] == [float(w) for w in delivery.BACKOFF]
    assert waits == sorted(waits)


def test_a_receiver_that_recovers_ends_delivered(client, buyer, seller, admin, auth, receiver):
    hook = receiver([500, 503, 200])
    headers = auth(buyer)
    secret = set_url(client, headers, hook.url).get_json()["secret"]
    buy_one(client, headers, seller, admin, buyer)
    delivery.sweep_due(now=utcnow() + timedelta(hours=1))
    delivery.sweep_due(now=utcnow() + timedelta(hours=2))
    rows = attempts(client, headers)
    assert [(r["attempt"], r["status"]) for r in rows] == [
        (3, "delivered"), (2, "failed"), (1, "failed"),
    ]  # fmt: skip
    assert all(verifies(secret, h["Leadex-Signature"], b) for h, b in hook.requests)
    assert delivery.sweep_due(now=utcnow() + timedelta(days=1)) == []


def test_a_connection_error_is_retried_and_the_purchase_stands(client, buyer, seller, admin, auth):
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    headers = auth(buyer)
    set_url(client, headers, f"http://127.0.0.1:{port}/hook")
    purchase, _lead = buy_one(client, headers, seller, admin, buyer)
    [row] = attempts(client, headers)
    assert row["status"] == "failed" and row["http_status"] is None and row["error"]
    assert client.get(f"/api/v1/purchases/{purchase['id']}", headers=headers).status_code == 200


def test_resend_sends_again_and_only_ones_own(client, buyer, seller, admin, auth, receiver):
    hook = receiver([200])
    headers = auth(buyer)
    secret = set_url(client, headers, hook.url).get_json()["secret"]
    buy_one(client, headers, seller, admin, buyer)
    [row] = attempts(client, headers)
    response = client.post(f"/api/v1/delivery/attempts/{row['id']}/resend", headers=headers)
    assert response.status_code == 202, response.get_json()
    assert response.get_json()["status"] == "delivered"
    assert len(hook.requests) == 2
    assert hook.requests[0][1] == hook.requests[1][1]
    assert verifies(secret, hook.requests[1][0]["Leadex-Signature"], hook.requests[1][1])
    other = make_user("buyer")
    missing = client.post(f"/api/v1/delivery/attempts/{row['id']}/resend", headers=auth(other))
    assert missing.status_code == 404
    assert attempts(client, auth(other)) == []
    assert len(hook.requests) == 2


def test_a_rotated_secret_replaces_the_old_one(client, buyer, seller, admin, auth, receiver):
    hook = receiver([200])
    headers = auth(buyer)
    assert client.post("/api/v1/delivery/secret", headers=headers).status_code == 404
    old = set_url(client, headers, hook.url).get_json()["secret"]
    rotated = client.post("/api/v1/delivery/secret", headers=headers)
    assert rotated.status_code == 200
    new = rotated.get_json()["secret"]
    assert new != old and new.startswith("whsec_")
    buy_one(client, headers, seller, admin, buyer)
    [(sent_headers, body)] = hook.requests
    assert verifies(new, sent_headers["Leadex-Signature"], body)
    assert not verifies(old, sent_headers["Leadex-Signature"], body)


def test_urls_must_be_http_and_public_in_production(app, client, buyer, auth, monkeypatch):
    headers = auth(buyer)
    for url in ("ftp://example.com/hook", "not a url", "http:///nohost"):
        response = set_url(client, headers, url)
        assert response.status_code == 422, url
        assert response.get_json()["error"]["code"] == "invalid_url"
    monkeypatch.setitem(app.config, "LEADEX_ENV", "production")
    monkeypatch.setitem(app.config, "DELIVERY_ALLOW_PRIVATE", False)
    for url in ("http://127.0.0.1:8080/hook", "http://localhost/hook", "https://10.1.2.3/x",
                "http://169.254.169.254/latest", "http://[::1]/hook"):  # fmt: skip
        response = set_url(client, headers, url)
        assert response.status_code == 422, url
    assert client.get("/api/v1/delivery", headers=headers).get_json()["url"] is None


def test_the_setting_defaults_by_environment(tmp_path):
    base = {"LEADEX_INSTANCE_DIR": str(tmp_path), "DATABASE_URL": "postgresql://db/leadex"}
    assert from_env({**base, "SECRET_KEY": "x" * 8})["DELIVERY_ALLOW_PRIVATE"] is True
    production = {**base, "LEADEX_ENV": "production", "SECRET_KEY": secrets.token_urlsafe(40)}
    assert from_env(production)["DELIVERY_ALLOW_PRIVATE"] is False
    assert from_env({**production, "DELIVERY_ALLOW_PRIVATE": "1"})["DELIVERY_ALLOW_PRIVATE"]


def test_a_replayed_purchase_is_not_delivered_twice(client, buyer, seller, admin, auth, receiver):
    hook = receiver([200])
    headers = auth(buyer)
    set_url(client, headers, hook.url)
    leads = listed_leads(seller, admin, 1)
    fund_wallet(buyer.organization_id, 10_000)
    keyed = {**headers, "Idempotency-Key": "delivery-once"}
    for _ in range(2):
        response = client.post(
            "/api/v1/purchases", json={"lead_ids": [leads[0].id]}, headers=keyed
        )
        assert response.status_code == 201, response.get_json()
    assert len(hook.requests) == 1 and len(attempts(client, headers)) == 1


def test_a_deactivated_url_receives_nothing(client, buyer, seller, admin, auth, receiver):
    hook = receiver([200])
    headers = auth(buyer)
    set_url(client, headers, hook.url)
    off = set_url(client, headers, hook.url, active=False)
    assert off.status_code == 200 and off.get_json() == {"url": hook.url, "active": False}
    buy_one(client, headers, seller, admin, buyer)
    assert hook.requests == [] and attempts(client, headers) == []
