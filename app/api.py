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
from sqlalchemy import BigInteger, Integer, SmallInteger, and_, or_
from sqlalchemy.types import TypeDecorator
from webargs import core
from webargs.flaskparser import FlaskParser, is_json_request

from app.errors import Forbidden, Invalid, Unauthorized
from app.http import bad_text_error, has_bad_text


class StrictParser(FlaskParser):
    """Unknown query parameters are a 422, never silently ignored (api-v1.md).

    JSON goes through ``request.get_json`` (depth and text checks of :mod:`app.http`, parsed
    once per request); query values with NUL are a 422 naming the parameter.
    """

    DEFAULT_UNKNOWN_BY_LOCATION = {
        **FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION,
        "query": ma.RAISE,
        "querystring": ma.RAISE,
        "json": ma.RAISE,
        "form": ma.RAISE,
    }

    def _raw_load_json(self, req):
        if not is_json_request(req) or not req.get_data(cache=True):
            return core.missing  # as webargs: no JSON body is missing data, not malformed
        return req.get_json()

    def load_querystring(self, req, schema):
        for key, values in req.args.lists():
            if any(has_bad_text(value) for value in (key, *values)):
                raise bad_text_error((key,))
        return super().load_querystring(req, schema)


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


# Our cursors hold a few ids and times; anything much longer was not made here.
MAX_CURSOR_LENGTH = 1000


class PageArgs(ma.Schema):
    cursor = ma.fields.String(
        load_default=None, validate=ma.validate.Length(max=MAX_CURSOR_LENGTH)
    )
    limit = ma.fields.Integer(load_default=50, validate=ma.validate.Range(min=1, max=500))


def _encode(values) -> str:
    packed = [{"dt": v.isoformat()} if isinstance(v, datetime) else v for v in values]
    raw = json.dumps(packed, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unpack(value):
    if isinstance(value, dict):
        if set(value) != {"dt"} or not isinstance(value["dt"], str):
            raise ValueError("not a packed time")
        return datetime.fromisoformat(value["dt"])
    return value


_INTEGER_BOUNDS = ((SmallInteger, 2**15), (BigInteger, 2**63), (Integer, 2**31))


def _fits(value, column) -> bool:
    """Whether a cursor value can be compared with ``column`` in SQL, on every database."""
    column_type = column.type
    if isinstance(column_type, TypeDecorator):
        column_type = column_type.impl_instance
    for integer_type, bound in _INTEGER_BOUNDS:
        if isinstance(column_type, integer_type):
            return type(value) is int and -bound <= value < bound
    try:
        python_type = column_type.python_type
    except NotImplementedError:
        return False
    if python_type is datetime:
        return isinstance(value, datetime) and value.tzinfo is not None
    if python_type is str:
        return isinstance(value, str) and not has_bad_text(value)
    if python_type is float:
        return type(value) in (int, float)
    return type(value) is python_type


def _decode(cursor: str, order) -> list:
    """The cursor's values, each checked against its order column's type; else 422."""
    try:
        if len(cursor) > MAX_CURSOR_LENGTH:
            raise ValueError("too long")
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        packed = json.loads(raw)
        if not isinstance(packed, list) or len(packed) != len(order):
            raise ValueError("not a list of the order's length")
        values = [_unpack(v) for v in packed]
        if not all(_fits(v, col) for v, (col, _) in zip(values, order, strict=True)):
            raise ValueError("a value does not fit its column")
        return values
    except (
        ValueError,
        TypeError,
        KeyError,
        RecursionError,
        binascii.Error,
        UnicodeDecodeError,
    ) as exc:
        raise Invalid("The cursor is not one this API gave out.", code="invalid_cursor") from exc


def paginate(session, stmt, *, order, cursor: str | None, limit: int, key=None) -> dict:
    """Keyset paging: ``order`` is a list of ``(column, descending)``, the last one unique.

    Returns ``{"items": [...], "next_cursor": str | None}``; ``key(item)`` gives the item's
    values for the order columns (default: attributes named like the columns).
    """
    key = key or (lambda item: [getattr(item, col.key) for col, _ in order])
    if cursor:
        values = _decode(cursor, order)
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
