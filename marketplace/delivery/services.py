"""Delivery: a buyer's webhook endpoint, signed POSTs of bought leads, retries with back-off.

Each try is a ``delivery_attempts`` row. A failed try (non-2xx answer or connection error)
records ``next_retry_at``; the periodic sweep (``sweep_due``) starts the next try when it is
due, so the schedule does not rely on Celery countdowns and can be driven with a moved clock.
Nothing here ever touches the purchase: a failing webhook never undoes it.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import logging
import secrets
import socket
import time
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import requests
from flask import current_app
from sqlalchemy import select, update

from app.db import end_read, transaction, utcnow
from app.extensions import db
from app.tasks import enqueue
from marketplace.delivery.errors import (
    DeliveryAttemptNotFound,
    DeliveryNotSet,
    InvalidDeliveryUrl,
)
from marketplace.delivery.models import DeliveryAttempt, DeliveryEndpoint
from marketplace.purchases.models import Purchase, PurchasedLead
from marketplace.schemas import FullLeadSchema

logger = logging.getLogger(__name__)

DELIVER_TASK = "delivery.deliver"
# Waits after failed try 1, 2, 3, 4 (seconds): 1 min, 5 min, 25 min, ~2 h; try 5 failing gives up.
BACKOFF = (60, 300, 1500, 7500)
MAX_ATTEMPTS = len(BACKOFF) + 1
TIMEOUT = (3, 5)  # connect, read (seconds)
SIGNATURE_HEADER = "Leadex-Signature"


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """The ``Leadex-Signature`` value: HMAC-SHA256 of ``"<t>.<raw body>"``."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def _allow_private() -> bool:
    config = current_app.config
    return bool(config.get("DELIVERY_ALLOW_PRIVATE", config.get("LEADEX_ENV") != "production"))


def check_url(url: str) -> None:
    """http(s) only; unless private addresses are allowed, every address the host resolves to
    must be public (no private, loopback, link-local, reserved or multicast one)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise InvalidDeliveryUrl(details={"url": str(error)}) from error
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidDeliveryUrl(details={"url": "must be an http or https URL with a host"})
    if _allow_private():
        return
    try:
        infos = socket.getaddrinfo(
            parts.hostname, port or (443 if parts.scheme == "https" else 80),
            proto=socket.IPPROTO_TCP,
        )  # fmt: skip
    except (OSError, UnicodeError) as error:
        raise InvalidDeliveryUrl(details={"url": "the host does not resolve"}) from error
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if not address.is_global or address.is_multicast:
            raise InvalidDeliveryUrl(details={"url": "the host resolves to a non-public address"})


def _endpoint(organization_id: int) -> DeliveryEndpoint | None:
    return db.session.scalar(
        select(DeliveryEndpoint).where(DeliveryEndpoint.organization_id == organization_id)
    )


def get_endpoint(*, buyer) -> dict:
    endpoint = _endpoint(buyer.organization_id)
    if endpoint is None:
        return {"url": None, "active": False}
    return {"url": endpoint.url, "active": endpoint.active}


def set_endpoint(*, buyer, url: str, active: bool = True) -> dict:
    """Set the URL; the answer that first sets one carries the new secret, once."""
    check_url(url)
    with transaction():
        endpoint = _endpoint(buyer.organization_id)
        answer = {"url": url, "active": active}
        if endpoint is None:
            endpoint = DeliveryEndpoint(organization_id=buyer.organization_id, secret=new_secret())
            db.session.add(endpoint)
            answer["secret"] = endpoint.secret
        endpoint.url, endpoint.active, endpoint.updated_at = url, active, utcnow()
    return answer


def rotate_secret(*, buyer) -> dict:
    """A new secret, shown once; the old one stops signing at once."""
    with transaction():
        endpoint = _endpoint(buyer.organization_id)
        if endpoint is None:
            raise DeliveryNotSet()
        endpoint.secret, endpoint.updated_at = new_secret(), utcnow()
        return {"url": endpoint.url, "active": endpoint.active, "secret": endpoint.secret}


def _enqueue_all(attempt_ids: list[int]) -> None:
    for attempt_id in attempt_ids:
        try:
            enqueue(DELIVER_TASK, attempt_id)
        except Exception:  # a broker down: the attempt stays pending, logged
            logger.exception("could not queue delivery attempt %s", attempt_id)


def queue_deliveries(*, purchase_id: int) -> list[int]:
    """After a purchase commits: one pending attempt per bought lead, each sent by a task.
    Nothing (one query) when the buyer has no active delivery URL."""
    with transaction():
        active = db.session.scalar(
            select(DeliveryEndpoint.active)
            .join(Purchase, Purchase.buyer_org_id == DeliveryEndpoint.organization_id)
            .where(Purchase.id == purchase_id)
        )
        if not active:
            return []
        purchase = db.session.get(Purchase, purchase_id)
        attempts = [
            DeliveryAttempt(
                organization_id=purchase.buyer_org_id,
                purchase_id=purchase.id,
                lead_id=item.lead_id,
                attempt=1,
                status="pending",
            )
            for item in purchase.items
        ]
        db.session.add_all(attempts)
        db.session.flush()
        ids = [attempt.id for attempt in attempts]
    _enqueue_all(ids)
    return ids


def _body(attempt: DeliveryAttempt) -> bytes:
    item = db.session.scalar(
        select(PurchasedLead).where(
            PurchasedLead.purchase_id == attempt.purchase_id,
            PurchasedLead.lead_id == attempt.lead_id,
        )
    )
    payload = {
        "event": "lead.purchased",
        "purchase_id": attempt.purchase_id,
        "lead": FullLeadSchema().dump(item.lead),
    }
    return json.dumps(payload, separators=(",", ":"), default=str).encode()


def _post(url: str, secret: str, body: bytes) -> tuple[int | None, str | None]:
    try:
        check_url(url)  # again at send time: the host may resolve elsewhere now
        response = requests.post(
            url,
            data=body,
            headers={
                "Content-Type": "application/json",
                SIGNATURE_HEADER: sign(secret, body, int(time.time())),
                "User-Agent": "Leadex-Webhooks/1",
            },
            timeout=TIMEOUT,
            allow_redirects=False,
        )
    except InvalidDeliveryUrl as error:
        return None, f"{error.message} {error.details.get('url', '')}".strip()
    except requests.RequestException as error:
        return None, f"{type(error).__name__}: {error}"[:500]
    if 200 <= response.status_code < 300:
        return response.status_code, None
    return response.status_code, f"HTTP {response.status_code}"


def deliver(attempt_id: int, *, now: datetime | None = None) -> str | None:
    """Send one pending attempt and record how it went; the POST runs outside a transaction."""
    attempt = db.session.get(DeliveryAttempt, attempt_id)
    if attempt is None or attempt.status != "pending":
        end_read()
        return None
    endpoint = _endpoint(attempt.organization_id)
    if endpoint is None or not endpoint.active:
        http_status, error = None, "no active delivery URL"
        end_read()
    else:
        url, secret, body = endpoint.url, endpoint.secret, _body(attempt)
        end_read()
        http_status, error = _post(url, secret, body)
    now = now or utcnow()
    with transaction():
        attempt = db.session.get(DeliveryAttempt, attempt_id)
        attempt.http_status, attempt.error = http_status, error
        if error is None:
            attempt.status = "delivered"
        elif attempt.attempt < MAX_ATTEMPTS and endpoint is not None and endpoint.active:
            attempt.status = "failed"
            attempt.next_retry_at = now + timedelta(seconds=BACKOFF[attempt.attempt - 1])
        else:
            attempt.status = "gave_up"
        return attempt.status


def sweep_due(*, now: datetime | None = None) -> list[int]:
    """Start the next try of every failed attempt whose ``next_retry_at`` has come. Claiming
    clears the old row's ``next_retry_at`` by a conditional UPDATE, so two sweeps never both
    retry it."""
    now = now or utcnow()
    due = db.session.scalars(
        select(DeliveryAttempt)
        .where(DeliveryAttempt.status == "failed", DeliveryAttempt.next_retry_at <= now)
        .order_by(DeliveryAttempt.id)
        .limit(500)
    ).all()
    ids = []
    with transaction():
        for old in due:
            claimed = db.session.execute(
                update(DeliveryAttempt)
                .where(DeliveryAttempt.id == old.id, DeliveryAttempt.next_retry_at.is_not(None))
                .values(next_retry_at=None)
                .execution_options(synchronize_session=False)
            ).rowcount
            if not claimed:
                continue
            new = DeliveryAttempt(
                organization_id=old.organization_id,
                purchase_id=old.purchase_id,
                lead_id=old.lead_id,
                attempt=old.attempt + 1,
                status="pending",
            )
            db.session.add(new)
            db.session.flush()
            ids.append(new.id)
    _enqueue_all(ids)
    return ids


def attempts_query(*, buyer):
    return select(DeliveryAttempt).where(DeliveryAttempt.organization_id == buyer.organization_id)


def latest_attempts(*, buyer, purchase_id: int) -> dict[int, DeliveryAttempt]:
    """The newest attempt of each lead of one of the buyer's purchases: its delivery state."""
    attempts = db.session.scalars(
        attempts_query(buyer=buyer)
        .where(DeliveryAttempt.purchase_id == purchase_id)
        .order_by(DeliveryAttempt.id)
    )
    return {attempt.lead_id: attempt for attempt in attempts}


def resend(*, buyer, attempt_id: int) -> DeliveryAttempt:
    """Send that attempt's lead again: a fresh series of tries (attempt 1)."""
    with transaction():
        old = db.session.get(DeliveryAttempt, attempt_id)
        if old is None or old.organization_id != buyer.organization_id:
            raise DeliveryAttemptNotFound()
        endpoint = _endpoint(buyer.organization_id)
        if endpoint is None or not endpoint.active:
            raise DeliveryNotSet()
        new = DeliveryAttempt(
            organization_id=old.organization_id,
            purchase_id=old.purchase_id,
            lead_id=old.lead_id,
            attempt=1,
            status="pending",
        )
        db.session.add(new)
        db.session.flush()
        new_id = new.id
    _enqueue_all([new_id])
    db.session.expire_all()
    return db.session.get(DeliveryAttempt, new_id)
