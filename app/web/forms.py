"""Form posts: the one place where a service's refusal is shown on the form that was sent.

A page form is where a person should see an error beside the field, not on an error page.
``@form_post`` wraps a view that handles a posted form: the view validates the form and calls one
service; when the service raises an ``AppError`` the decorator flashes its message, puts
``exc.details`` beside the fields they name, and answers with ``page(form, **view_args)``.

``page`` is usually the form's page drawn again with the form as posted, so typed values (an
amount) and field errors stay where the person looks; a per-row form with nothing worth keeping
(a transfer reference, a hold note) may redirect to its page instead (``redirect_to``).
401, 403 and 404 stay error pages: they are about the page, not the form.
"""

from __future__ import annotations

import functools
import logging
import uuid
from collections.abc import Callable, Mapping

from flask import flash, redirect, request, url_for
from flask_wtf import FlaskForm
from wtforms import HiddenField
from wtforms.validators import ValidationError

from app.errors import AppError
from app.extensions import db

logger = logging.getLogger(__name__)

# About the page or the person rather than what they typed: the usual error pages answer.
PAGE_ERRORS = frozenset({401, 403, 404})

Page = Callable[..., object]


class OnceForm(FlaskForm):
    """A form that moves money: its ``request_id``, made when the page is drawn, keys the
    service call, so a double click or a resent form is one request (``renew_request_id``
    gives a refused one a new id)."""

    request_id = HiddenField(default=lambda: uuid.uuid4().hex)

    def validate_request_id(self, field) -> None:
        try:
            uuid.UUID(field.data or "")
        except ValueError as exc:
            raise ValidationError("Reload the page and try again.") from exc


def form_post(
    form_class: type[FlaskForm] | None,
    *,
    page: Page,
    fields: Mapping[str, str] | None = None,
    messages: Mapping[str, str] | None = None,
    category: str = "error",
):
    """Show an ``AppError`` of the decorated view's form post on its form.

    The view is called with ``form=form_class()`` (the posted form) besides its URL arguments.
    ``fields`` renames the service's detail keys to form fields (``{"amount_cents":
    "amount"}``); ``messages`` replaces the message of an error ``code`` with one written for
    this page. Typed 5xx errors (the payment provider is down) are shown the same way: they are
    answers a service gives on purpose, and the person can try again from the form.
    """

    def decorate(view):
        @functools.wraps(view)
        def wrapper(**view_args):
            form = form_class() if form_class is not None else None
            try:
                return view(form=form, **view_args) if form is not None else view(**view_args)
            except AppError as exc:
                if request.method != "POST" or exc.status_code in PAGE_ERRORS:
                    raise
                logger.info("form post %s refused: %s", request.path, exc.code)
                # The use case rolled its work back; end what the view read, so the page is
                # drawn from the database as it is now.
                db.session.rollback()
                flash((messages or {}).get(exc.code, exc.message), category)
                if form is not None:
                    errors_onto_form(form, exc.details, rename=fields)
                    renew_request_id(form, exc)
                return page(form, **view_args)

        return wrapper

    return decorate


def redirect_to(endpoint: str, **values) -> Page:
    """A ``page`` for ``form_post`` that sends the person back to ``endpoint``."""

    def page(form, **view_args):
        return redirect(url_for(endpoint, **values))

    return page


def errors_onto_form(
    form: FlaskForm,
    details: Mapping,
    *,
    rename: Mapping[str, str] | None = None,
    default: str | None = None,
) -> bool:
    """Put an error's ``details`` ({field: [problems]}) beside the form's fields.

    A key is renamed through ``rename`` first; a key that names no field of the form goes to
    the ``default`` field, or is left to the flashed message when there is none. Values that
    are not problems (an id, a number) are skipped. True when any problem was placed.
    """
    placed = False
    for key, problems in (details or {}).items():
        if isinstance(problems, str):
            problems = [problems]
        if not isinstance(problems, list | tuple) or not all(isinstance(p, str) for p in problems):
            continue
        field = form._fields.get((rename or {}).get(key, key)) or form._fields.get(default or "")
        if field is None:
            continue
        # A field's errors are a tuple until the form has been validated.
        field.errors = [*field.errors, *problems]
        placed = True
    return placed


def renew_request_id(form: FlaskForm, exc: AppError) -> None:
    """A refused request is over: the form drawn again is a new request, with a new id.

    Forms that move money carry a ``request_id`` so that a double click is one request. A
    refused request (a declined card, an amount too high) is final, and a resend with other
    values must not look like the same request. After a 503 (the provider could not be
    reached, or did not answer and the charge is pending) billing keeps or frees the key for a
    retry, so the id stays: sending again resumes the request instead of charging twice.
    """
    field = form._fields.get("request_id")
    if field is not None and exc.status_code != 503:
        field.data = uuid.uuid4().hex


def flash_field_errors(form: FlaskForm) -> None:
    """Flash each field error as "Label: problem", for pages that redirect after a post."""
    for name, errors in form.errors.items():
        field = form._fields.get(name)
        label = field.label.text if field is not None else name
        for error in errors:
            flash(f"{label}: {error}", "error")


def flat_messages(messages) -> list[str]:
    """A field's validation messages as a flat list: marshmallow nests a list field's under
    the bad item's index (``{0: ["Not a valid choice."]}``), which a page would show as "0"."""
    if isinstance(messages, dict):
        return [problem for value in messages.values() for problem in flat_messages(value)]
    if isinstance(messages, list | tuple):
        return [problem for value in messages for problem in flat_messages(value)]
    return [str(messages)]
