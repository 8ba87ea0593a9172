"""API plumbing shared by every package: the blueprint class, bearer-token auth, paging, and
the OpenAPI document's error responses.

Every error is ``{"error": {"code", "message", "details"}}`` (the component ``Error``). Which
statuses an operation documents is derived here from what the operation is, so a new endpoint
gets them without asking:

- bearer auth (``api_auth``) -> 401, and 403 when only some roles may call it;
- a path parameter -> 404;
- a body -> 400 (malformed JSON), 413 (too large), 422 (invalid data);
- query parameters -> 422;
- ``Idempotency-Key`` (``idempotent``) -> 409 and 422, and 400 when the key is required;
- a Flask-Limiter limit -> 429.

What derivation cannot see (a service's 409, the payment provider's 402/502/503) an operation
declares with :func:`app.errors.error_responses`.
"""

from __future__ import annotations

import base64
import binascii
import functools
import http
import json
from datetime import datetime

import flask_smorest
import marshmallow as ma
from apispec import BasePlugin
from apispec.ext.marshmallow import MarshmallowPlugin
from apispec.ext.marshmallow import resolver as default_schema_name
from apispec.ext.marshmallow.common import resolve_schema_cls
from flask import g, request
from flask_limiter.util import get_qualified_name
from sqlalchemy import BigInteger, Integer, SmallInteger, and_, or_
from sqlalchemy.types import TypeDecorator
from webargs import core
from webargs.flaskparser import FlaskParser, is_json_request

from app.auth.models import ROLE_BY_KIND
from app.auth.services import user_for_token
from app.errors import ErrorBodySchema, ErrorSchema, Forbidden, Invalid, Unauthorized
from app.extensions import limiter
from app.http import bad_text_error, has_bad_text

# The header of app.idempotency's keys; named here so the OpenAPI plugin can see it without
# importing idempotency, which sits above this module.
IDEMPOTENCY_HEADER = "Idempotency-Key"


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


# Swagger tags: one capitalised noun per blueprint.
TAGS = {
    "accounts": "Accounts",
    "market": "Marketplace",
    "verify": "Verification",
    "disputes": "Disputes",
    "billing_api": "Billing",
}


def tag_for(blueprint_name: str) -> str:
    """The tag of a blueprint's operations: from TAGS, else its name without ``_api``,
    capitalised (``saved_searches_api`` -> ``Saved searches``)."""
    if blueprint_name in TAGS:
        return TAGS[blueprint_name]
    return blueprint_name.removesuffix("_api").replace("_", " ").strip().capitalize()


def _rate_limited(view) -> bool:
    marked = getattr(limiter, "_marked_for_limiting", set())
    return bool(view is not None and get_qualified_name(view) in marked)


def derived_error_statuses(operation: dict, *, rule=None, view=None) -> set[int]:
    """The error statuses an operation can answer, from what it is (see the module docstring)."""
    statuses = set()
    if operation.get("security"):
        statuses.add(401)
    if rule is not None and rule.arguments:
        statuses.add(404)
    if "requestBody" in operation:
        statuses |= {400, 413, 422}
    parameters = [p for p in operation.get("parameters", []) if isinstance(p, dict)]
    if any(p.get("in") == "query" for p in parameters):
        statuses.add(422)
    for p in parameters:
        if p.get("in") == "header" and p.get("name") == IDEMPOTENCY_HEADER:
            statuses |= {409, 422} | ({400} if p.get("required") else set())
    if _rate_limited(view):
        statuses.add(429)
    return statuses


def _status_key(code) -> tuple:
    text = str(code)
    return (0, int(text)) if text.isdigit() else (1, 0)


class ErrorResponsesPlugin(BasePlugin):
    """apispec plugin: each operation gets its derived error responses and its blueprint's tag."""

    def __init__(self, api: LeadexApi):
        super().__init__()
        self.api = api

    def operation_helper(self, path=None, operations=None, **kwargs):
        rule = kwargs.get("rule")
        view = self.api._app.view_functions.get(rule.endpoint) if rule is not None else None
        for method, operation in (operations or {}).items():
            if method not in {"get", "put", "post", "patch", "delete"}:
                continue
            responses = operation.setdefault("responses", {})
            documented = {int(str(code)) for code in responses if str(code).isdigit()}
            for status in derived_error_statuses(operation, rule=rule, view=view) - documented:
                responses[status] = http.HTTPStatus(status).name
            operation["responses"] = dict(
                sorted(responses.items(), key=lambda item: _status_key(item[0]))
            )
            operation["tags"] = [tag_for(tag) for tag in operation.get("tags") or []]


def _schema_name(schema) -> str | None:
    # The envelope's inner object is part of the one ``Error`` component, not a second one.
    if resolve_schema_cls(schema) is ErrorBodySchema:
        return None
    return default_schema_name(schema)


class LeadexApi(flask_smorest.Api):
    """flask-smorest with our error format: the app registers one handler for all errors, and
    the document shows that format, for exactly the statuses each operation can answer."""

    ERROR_SCHEMA = ErrorSchema
    # No catch-all ``default`` response: an undocumented status is a contract violation.
    DEFAULT_ERROR_RESPONSE_NAME = None

    def _register_error_handlers(self):
        pass

    def _init_spec(self, *, marshmallow_plugin=None, extra_plugins=None, **options):
        super()._init_spec(
            marshmallow_plugin=marshmallow_plugin
            or MarshmallowPlugin(schema_name_resolver=_schema_name),
            extra_plugins=[*(extra_plugins or ()), ErrorResponsesPlugin(self)],
            **options,
        )

    def register_blueprint(self, blp, *, parameters=None, **options):
        """As flask-smorest's, with the blueprint's tag named by :func:`tag_for`."""
        blp_name = options.get("name", blp.name)
        self._app.extensions["flask-smorest"]["blp_name_to_api"][blp_name] = self
        self._app.register_blueprint(blp, **options)
        blp.register_views_in_doc(self, self._app, self.spec, name=blp_name, parameters=parameters)
        self.spec.tag({"name": tag_for(blp_name), "description": blp.description})


BEARER_SECURITY = [{"bearerAuth": []}]


def api_auth(*roles: str):
    """Authenticate by ``Authorization: Bearer <token>``; optionally require one of ``roles``.

    The API ignores the session cookie on purpose: token auth is what makes it safe to exempt
    the API from CSRF checks.
    """

    def decorator(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
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
        manual = wrapper._apidoc.setdefault("manual_doc", {})
        manual.setdefault("security", BEARER_SECURITY)
        if roles and not set(ROLE_BY_KIND.values()) <= set(roles):
            manual.setdefault("responses", {})[403] = http.HTTPStatus.FORBIDDEN.name
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
