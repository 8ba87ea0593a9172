"""`Idempotency-Key` for API writes: the first answer is stored and given again for the same key.

A view decorated with :func:`idempotent` (inside ``api_auth``, outside ``blp.arguments`` and
``blp.response``) behaves like this, per organisation and key:

- first request: a row is claimed (committed, so a concurrent twin sees it), the view runs, and
  its status and JSON body are stored with the row;
- the same key with the same method, path and body: the stored answer again, and nothing runs;
- the same key with another body (or on another endpoint): ``409 idempotency_key_reused``;
- the same key while the first request is still running: ``409 idempotency_key_in_use``;
- when the view raised (bad input, a declined card, a provider that is down), the claim is
  dropped and nothing is stored, so the client may retry with the same key.

Services behind the decorator should still be idempotent by the key themselves (a process that
dies between the view's commit and the stored answer leaves only a stale claim, which is taken
over after ``STALE_CLAIM``): :func:`create_once` is how they do it.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TypeVar

from flask import Response, current_app, request
from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from app.api import IDEMPOTENCY_HEADER, current_api_user
from app.db import UTCDateTime, transaction, utcnow
from app.errors import Conflict, Invalid
from app.extensions import db
from app.http import json_depth_exceeds

T = TypeVar("T")

HEADER = IDEMPOTENCY_HEADER
MAX_KEY_LENGTH = 255
# A claim without an answer this old belongs to a request that died; a retry may take it over.
STALE_CLAIM = timedelta(minutes=5)


class IdempotencyKey(db.Model):
    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("organization_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    key: Mapped[str] = mapped_column(String(MAX_KEY_LENGTH))
    method_path: Mapped[str] = mapped_column(String(400))
    request_hash: Mapped[str] = mapped_column(String(64))
    response_status: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class IdempotencyKeyReused(Conflict):
    """The key was used for another request: by the ``Idempotency-Key`` header here, or by a
    service's own idempotency key (billing's sales, top-ups, refunds and payouts)."""

    code = "idempotency_key_reused"
    message = "This idempotency key was used for a different request."


class IdempotencyKeyInUse(Conflict):
    code = "idempotency_key_in_use"
    message = "A request with this Idempotency-Key is still being processed; retry shortly."


class IdempotencyKeyMissing(Invalid):
    status_code = 400
    code = "idempotency_key_required"
    message = "Send an Idempotency-Key header with this request."


def create_once(find: Callable[[], T | None], create: Callable[[], T]) -> tuple[T, bool]:
    """The row a service made for an idempotency key: ``find()`` it, or ``create()`` it in one
    transaction. Returns ``(row, is_new)``.

    ``create`` only adds and flushes; the key's UNIQUE constraint settles a race, and when a
    concurrent call with the same key wins the insert, the row it made is found and returned.
    With ``is_new`` False the caller compares the row with its own request (raising
    ``IdempotencyKeyReused`` when another request made it) and answers as the first call did.
    """
    try:
        with transaction():
            existing = find()
            if existing is not None:
                return existing, False
            return create(), True
    except IntegrityError:
        existing = find()
        if existing is None:
            raise
        return existing, False


def request_fingerprint() -> str:
    """A hash of the body: parsed JSON is hashed in a canonical form, so key order is free.

    A body too deep to parse safely is hashed as it is (the view then refuses it).
    """
    raw = request.get_data(cache=True)
    try:
        if json_depth_exceeds(raw):
            raise ValueError("nested too deep to parse")
        canonical = json.dumps(json.loads(raw), sort_keys=True, separators=(",", ":")).encode()
    except (ValueError, UnicodeDecodeError, RecursionError):
        canonical = raw
    return hashlib.sha256(canonical).hexdigest()


def _read_key(required: bool) -> str | None:
    key = request.headers.get(HEADER)
    if key is None or not key.strip():
        if required:
            raise IdempotencyKeyMissing(details={HEADER: ["Missing data for required header."]})
        return None
    key = key.strip()
    if len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise Invalid(
            "The Idempotency-Key is not valid.",
            code="invalid_idempotency_key",
            details={HEADER: [f"At most {MAX_KEY_LENGTH} printable characters."]},
        )
    return key


def current_key() -> str | None:
    """The request's Idempotency-Key, for a view that passes it on to an idempotent service."""
    key = request.headers.get(HEADER)
    return key.strip() if key and key.strip() else None


def _claim(organization_id: int, key: str, method_path: str, body_hash: str):
    """Claim the key (committed), or return the stored row when it already has an answer."""
    session = db.session
    row = session.scalar(
        select(IdempotencyKey).where(
            IdempotencyKey.organization_id == organization_id, IdempotencyKey.key == key
        )
    )
    if row is None:
        try:
            with transaction():
                row = IdempotencyKey(
                    organization_id=organization_id,
                    key=key,
                    method_path=method_path,
                    request_hash=body_hash,
                )
                session.add(row)
                session.flush()
        except IntegrityError:
            # A concurrent request with the same key claimed it first.
            raise IdempotencyKeyInUse() from None
        return row, False
    if row.method_path != method_path or row.request_hash != body_hash:
        raise IdempotencyKeyReused(details={"key": key})
    if row.response_status is not None:
        return row, True
    if utcnow() - row.created_at < STALE_CLAIM:
        raise IdempotencyKeyInUse()
    # A stale claim: take it over, once (the conditional update settles a race of retries).
    with transaction():
        taken = session.execute(
            update(IdempotencyKey)
            .where(
                IdempotencyKey.id == row.id,
                IdempotencyKey.response_status.is_(None),
                IdempotencyKey.created_at == row.created_at,
            )
            .values(created_at=utcnow())
            .execution_options(synchronize_session=False)
        ).rowcount
    if not taken:
        raise IdempotencyKeyInUse()
    session.expire(row)
    return row, False


def _release(row_id: int) -> None:
    db.session.rollback()
    with transaction() as session:
        session.execute(
            delete(IdempotencyKey)
            .where(IdempotencyKey.id == row_id, IdempotencyKey.response_status.is_(None))
            .execution_options(synchronize_session=False)
        )


def _store(row_id: int, response: Response) -> None:
    with transaction() as session:
        session.execute(
            update(IdempotencyKey)
            .where(IdempotencyKey.id == row_id)
            .values(
                response_status=response.status_code,
                response_body=response.get_data(as_text=True),
                completed_at=utcnow(),
            )
            .execution_options(synchronize_session=False)
        )


def _replay(row: IdempotencyKey) -> Response:
    response = current_app.response_class(
        row.response_body or "", status=row.response_status, mimetype="application/json"
    )
    response.headers["Idempotent-Replayed"] = "true"
    return response


def idempotent(*, required: bool = False):
    """Store the first answer under the client's ``Idempotency-Key`` (see the module docstring).

    Place it under ``api_auth``: the key belongs to the caller's organisation.
    """

    def decorator(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            key = _read_key(required)
            if key is None:
                return view(*args, **kwargs)
            organization_id = current_api_user().organization_id
            method_path = f"{request.method} {request.path}"
            row, answered = _claim(organization_id, key, method_path, request_fingerprint())
            if answered:
                return _replay(row)
            row_id = row.id
            try:
                response = current_app.make_response(view(*args, **kwargs))
            except BaseException:
                _release(row_id)
                raise
            if response.status_code >= 500 or not response.is_json:
                _release(row_id)
            else:
                _store(row_id, response)
            return response

        doc = wrapper.__dict__.setdefault("_apidoc", {})
        parameters = doc.setdefault("manual_doc", {}).setdefault("parameters", [])
        parameters.append(
            {
                "in": "header",
                "name": HEADER,
                "required": required,
                "schema": {"type": "string", "maxLength": MAX_KEY_LENGTH},
                "description": "The same key and body return the first answer again; "
                "the same key with another body is 409.",
            }
        )
        return wrapper

    return decorator
