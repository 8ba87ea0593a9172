"""Helpers of the billing tests: Stripe objects as localstripe has them, signed events,
wallets funded at the ledger level (as the webhook would) without a Stripe server."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from datetime import timedelta

import requests
from flask import current_app

from app.auth.models import Organization
from app.db import transaction, utcnow
from app.extensions import db
from billing import services
from billing.models import TopUp
from billing.stripe_gateway import PaymentIntentResult


def fund_wallet(org_id: int, cents: int) -> TopUp:
    """A succeeded top-up applied as the ``payment_intent.succeeded`` webhook applies it."""
    with transaction() as session:
        top_up = TopUp(
            organization_id=org_id,
            idempotency_key=f"test:{uuid.uuid4().hex}",
            amount_cents=cents,
            currency="usd",
            status="pending",
            trigger="manual",
        )
        session.add(top_up)
        session.flush()
        top_up_id = top_up.id
    with transaction():
        services.apply_payment_intent(
            top_up_id,
            PaymentIntentResult(
                id=f"pi_test_{uuid.uuid4().hex[:14]}",
                status="succeeded",
                amount_cents=cents,
                currency="usd",
                charge_id=f"ch_test_{uuid.uuid4().hex[:14]}",
                metadata={"leadex_top_up_id": str(top_up_id)},
            ),
        )
    return db.session.get(TopUp, top_up_id)


def make_org(kind: str, name: str | None = None) -> int:
    with transaction() as session:
        org = Organization(name=name or f"{kind} {uuid.uuid4().hex[:6]}", kind=kind)
        session.add(org)
        session.flush()
        return org.id


def sell(buyer_org_id: int, seller_org_id: int, cents: int, *, days: int = 7, key=None):
    return services.charge_purchase(
        buyer_org_id=buyer_org_id,
        seller_org_id=seller_org_id,
        amount_cents=cents,
        reference=f"test purchase {key or ''}".strip(),
        idempotency_key=key or f"sale:{uuid.uuid4().hex}",
        release_after=utcnow() + timedelta(days=days),
    )


def signed(event: dict, *, secret: str | None = None, timestamp: int | None = None):
    """The body and ``Stripe-Signature`` header Stripe would send for ``event``."""
    body = json.dumps(event).encode()
    secret = secret or current_app.config["STRIPE_WEBHOOK_SECRET"]
    timestamp = int(time.time()) if timestamp is None else timestamp
    signature = hmac.new(
        secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256
    ).hexdigest()
    return body, {
        "Stripe-Signature": f"t={timestamp},v1={signature}",
        "Content-Type": "application/json",
    }


def event(event_type: str, obj: dict, event_id: str | None = None) -> dict:
    return {
        "id": event_id or f"evt_test_{uuid.uuid4().hex[:16]}",
        "object": "event",
        "type": event_type,
        "api_version": "2017-08-15",
        "created": int(time.time()),
        "data": {"object": obj},
    }


def post_event(client, evt: dict, **kwargs):
    body, headers = signed(evt, **kwargs)
    return client.post("/api/v1/billing/stripe/webhook", data=body, headers=headers)


def stripe_get(base: str, path: str, **params) -> dict:
    answer = requests.get(
        f"{base}/v1/{path}",
        params=params,
        headers={"Authorization": "Bearer sk_test_local"},
        timeout=10,
    )
    answer.raise_for_status()
    return answer.json()


def payment_intents(base: str) -> list[dict]:
    return stripe_get(base, "payment_intents", limit=100)["data"]


def stripe_refunds(base: str) -> list[dict]:
    return stripe_get(base, "refunds", limit=100)["data"]


class AnswerLosingProxy:
    """Forwards each request to the real server, waits for its answer, then hangs up without
    passing it on: the request reached Stripe, but we never learn what happened."""

    def __init__(self, target: str):
        import socket
        import threading

        self.target = target.removeprefix("http://")
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(8)
        self.url = f"http://127.0.0.1:{self.server.getsockname()[1]}"
        self.forwarded = 0
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        import http.client

        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            with conn:
                data = b""
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(65536)
                    if not chunk:
                        break
                    data += chunk
                head, _, body = data.partition(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, path, _ = lines[0].split(" ", 2)
                headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
                length = int(headers.get("Content-Length", headers.get("content-length", 0)))
                while len(body) < length:
                    body += conn.recv(65536)
                host, port = self.target.split(":")
                upstream = http.client.HTTPConnection(host, int(port), timeout=30)
                headers.pop("Host", None)
                upstream.request(method, path, body=body, headers=headers)
                upstream.getresponse().read()
                upstream.close()
                self.forwarded += 1
            # Closed without a byte of the answer.

    def close(self):
        self.server.close()
