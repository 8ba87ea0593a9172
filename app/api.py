"""API plumbing shared by every package: the blueprint class, bearer-token auth, paging."""

from __future__ import annotations

import base64
import binascii
import functools
import json
from datetime import datetime

import flask_smorest
import marshmallow as ma
from flask import g, request
from sqlalchemy import and_, or_
from webargs.flaskparser import FlaskParser

from app.errors import Forbidden, Invalid, Unauthorized


class StrictParser(FlaskParser):
    """Unknown query parameters are a 422, never silently ignored (api-v1.md)."""

    DEFAULT_UNKNOWN_BY_LOCATION = {
        **FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION,
        "query": ma.RAISE,
        "querystring": ma.RAISE,
        "json": ma.RAISE,
        "form": ma.RAISE,
    }


class ApiBlueprint(flask_smorest.Blueprint):
    ARGUMENTS_PARSER = StrictParser()


class LeadexApi(flask_smorest.Api):
    """flask-smorest with our error format: the app registers one handler for all errors."""

    def _register_error_handlers(self):
        pass


BEARER_SECURITY = [{"bearerAuth": []}]


def api_auth(*roles: str):
    """Authenticate by ``Authorization: Bearer <token>``; optionally require one of ``roles``.

    The API ignores the session cookie on purpose: token auth is what makes it safe to exempt
    the API from CSRF checks.
    """

    def decorator(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            from app.auth.services import user_for_token

            header = request.headers.get("Authorization", "")
            scheme, _, token = header.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                raise Unauthorized("Send an API token as 'Authorization: Bearer <token>'.")
            user = user_for_token(token.strip())
            if user is None:
                raise Unauthorized("The API token is unknown, expired or revoked.")
            if roles and user.role not in roles:
                raise Forbidden(f"This endpoint is for {' or '.join(roles)} accounts.")
            g.api_user = user
            return view(*args, **kwargs)

        wrapper._apidoc = getattr(view, "_apidoc", {})
        wrapper._apidoc.setdefault("manual_doc", {}).setdefault("security", BEARER_SECURITY)
        return wrapper

    return decorator


def current_api_user():
    return g.api_user


class PageArgs(ma.Schema):
    cursor = ma.fields.String(load_default=None)
    limit = ma.fields.Integer(load_default=50, validate=ma.validate.Range(min=1, max=500))


def _encode(values) -> str:
    packed = [{"dt": v.isoformat()} if isinstance(v, datetime) else v for v in values]
    raw = json.dumps(packed, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str, size: int) -> list:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        packed = json.loads(raw)
        if not isinstance(packed, list) or len(packed) != size:
            raise ValueError
        return [
            datetime.fromisoformat(v["dt"]) if isinstance(v, dict) and "dt" in v else v
            for v in packed
        ]
    except (ValueError, TypeError, KeyError, binascii.Error, UnicodeDecodeError) as exc:
        raise Invalid("The cursor is not one this API gave out.", code="invalid_cursor") from exc


def paginate(session, stmt, *, order, cursor: str | None, limit: int, key=None) -> dict:
    """Keyset paging: ``order`` is a list of ``(column, descending)``, the last one unique.

    Returns ``{"items": [...], "next_cursor": str | None}``; ``key(item)`` gives the item's
    values for the order columns (default: attributes named like the columns).
    """
    key = key or (lambda item: [getattr(item, col.key) for col, _ in order])
    if cursor:
        values = _decode(cursor, len(order))
        clauses = []
        for i, (col, desc) in enumerate(order):
            earlier = [c == v for (c, _), v in zip(order[:i], values[:i], strict=True)]
            clauses.append(and_(*earlier, col < values[i] if desc else col > values[i]))
        stmt = stmt.where(or_(*clauses))
    stmt = stmt.order_by(*[col.desc() if desc else col.asc() for col, desc in order])
    rows = session.scalars(stmt.limit(limit + 1)).all()
    items = rows[:limit]
    next_cursor = _encode(key(items[-1])) if len(rows) > limit else None
    return {"items": items, "next_cursor": next_cursor}


def page_schema(item_schema, name: str):
    """A ``{"items": [...], "next_cursor"}`` schema around ``item_schema``."""
    return ma.Schema.from_dict(
        {
            "items": ma.fields.List(ma.fields.Nested(item_schema)),
            "next_cursor": ma.fields.String(allow_none=True),
        },
        name=name,
    )
