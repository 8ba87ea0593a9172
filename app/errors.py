"""The AppError family and the one place that turns any error into a JSON or HTML answer."""

from __future__ import annotations

import http
import logging

import marshmallow as ma
from flask import Flask, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException, InternalServerError

from app.extensions import db

logger = logging.getLogger(__name__)


class AppError(Exception):
    """A rule a request broke; services raise these and views never catch them."""

    status_code = 400
    code = "bad_request"
    message = "The request could not be processed."

    def __init__(self, message: str | None = None, *, code: str | None = None, details=None):
        super().__init__(message or self.message)
        self.message = message or self.message
        if code:
            self.code = code
        self.details = details or {}


class MalformedJson(AppError):
    status_code = 400
    code = "malformed_json"
    message = "The body is not valid JSON."


class Invalid(AppError):
    status_code = 422
    code = "invalid"
    message = "The data is not valid."


class Unauthorized(AppError):
    status_code = 401
    code = "unauthorized"
    message = "Sign in first: the credentials are missing, wrong, expired or revoked."


class Forbidden(AppError):
    status_code = 403
    code = "forbidden"
    message = "Your role may not do this."


class NotFound(AppError):
    status_code = 404
    code = "not_found"
    message = "There is nothing here."


class Conflict(AppError):
    status_code = 409
    code = "conflict"
    message = "The state changed under you."


class PaymentRequired(AppError):
    status_code = 402
    code = "payment_required"
    message = "Payment is required."


class TooLarge(AppError):
    status_code = 413
    code = "too_large"
    message = "The request is too large."


class ServiceUnavailable(AppError):
    status_code = 503
    code = "service_unavailable"
    message = "A service we depend on is unavailable; try again shortly."


HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
    500: "internal_error",
}


class ErrorBodySchema(ma.Schema):
    code = ma.fields.String(
        required=True, metadata={"description": "A machine code, e.g. `validation_error`."}
    )
    message = ma.fields.String(required=True, metadata={"description": "A human sentence."})
    details = ma.fields.Dict(
        required=True,
        metadata={"description": "More about the error: for 422, the fields and their messages."},
    )


class ErrorSchema(ma.Schema):
    """Every error the API sends: ``{"error": {"code", "message", "details"}}``.

    Documentation only (the OpenAPI component ``Error``); :func:`error_response` builds the body.
    """

    error = ma.fields.Nested(ErrorBodySchema, required=True)


def error_responses(*statuses: int):
    """Document error statuses derivation cannot see: ``@error_responses(402, 502, 503)``.

    Place it anywhere among the view's decorators, under the route decorator.
    """

    def decorator(view):
        doc = view.__dict__.setdefault("_apidoc", {})
        responses = doc.setdefault("manual_doc", {}).setdefault("responses", {})
        for status in statuses:
            responses[status] = http.HTTPStatus(status).name
        return view

    return decorator


def wants_json() -> bool:
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" and not request.accept_mimetypes["text/html"]


def _string_keys(value):
    """``value`` with every dict key a string: marshmallow keys a list's errors by index, and a
    form part without a name is keyed None; sorted JSON cannot mix those with strings."""
    if isinstance(value, dict):
        return {
            ("null" if key is None else str(key)): _string_keys(inner)
            for key, inner in value.items()
        }
    if isinstance(value, list | tuple):
        return [_string_keys(inner) for inner in value]
    return value


def error_response(status: int, code: str, message: str, details=None, headers=None):
    if wants_json():
        details = _string_keys(details or {})
        body = {"error": {"code": code, "message": message, "details": details}}
        response = jsonify(body)
    else:
        template = f"errors/{status}.html" if status in (403, 404, 500) else "errors/error.html"
        response = render_template(
            template, status=status, code=code, message=message, details=details or {}
        )
    return response, status, headers or {}


def _validation_details(messages) -> dict:
    # webargs nests messages under the location ({"json": {...}}); callers want the fields.
    if isinstance(messages, dict) and len(messages) == 1:
        ((location, inner),) = messages.items()
        if location in {"json", "query", "form", "files", "headers", "json_or_form"}:
            return inner if isinstance(inner, dict) else {"_schema": inner}
    return messages if isinstance(messages, dict) else {"_schema": messages}


def handle_app_error(error: AppError):
    return error_response(error.status_code, error.code, error.message, error.details)


def handle_validation_error(error: ValidationError):
    return error_response(
        422, "validation_error", "Some fields are not valid.", _validation_details(error.messages)
    )


def handle_http_exception(error: HTTPException):
    status = error.code or 500
    if isinstance(error, InternalServerError):
        return handle_unexpected(error.original_exception or error)
    data = getattr(error, "data", None) or {}
    if status == 422 and "messages" in data:
        return error_response(
            422,
            "validation_error",
            "Some fields are not valid.",
            _validation_details(data["messages"]),
        )
    code = HTTP_CODES.get(status, "http_error")
    message = error.description or error.name
    if isinstance(error, CSRFError):
        code, message = "csrf_failed", "The form expired or was not sent from this site."
    if status == 429:
        message = "Too many attempts; wait a little and try again."
    headers = dict(error.get_headers()) if status in (405, 429) else None
    if headers:
        headers.pop("Content-Type", None)
    return error_response(status, code, message, headers=headers)


def handle_unexpected(error: BaseException):
    logger.exception("unhandled error on %s %s", request.method, request.path, exc_info=error)
    db.session.rollback()
    return error_response(500, "internal_error", "Something went wrong on our side.")


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(AppError, handle_app_error)
    app.register_error_handler(ValidationError, handle_validation_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(Exception, handle_unexpected)
