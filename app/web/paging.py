"""Keyset pages of a web list: the page's items and the links to the next and first pages."""

from __future__ import annotations

from flask import request, url_for

from app.api import paginate
from app.extensions import db


def page_of(
    stmt,
    *,
    order,
    endpoint: str,
    limit: int,
    cursor=None,
    args: dict | None = None,
    key=None,
) -> dict:
    """``paginate`` for a page: ``{"items", "next_url", "first_url"}``. The links go to
    ``endpoint`` with ``args`` (the list's filters, empty ones left out); ``cursor`` defaults
    to the query's; ``key`` as ``paginate``'s."""
    cursor = cursor if cursor is not None else request.args.get("cursor") or None
    args = {name: value for name, value in (args or {}).items() if name != "cursor" and value}
    page = paginate(db.session, stmt, order=order, cursor=cursor, limit=limit, key=key)
    next_cursor = page["next_cursor"]
    return {
        "items": page["items"],
        "next_url": url_for(endpoint, **args, cursor=next_cursor) if next_cursor else None,
        "first_url": url_for(endpoint, **args) if cursor else None,
    }


def query_args(*, drop=(), flat: bool = True) -> dict:
    """The request's query string as ``url_for`` arguments for a link to the same list: keys
    in ``drop`` left out, and never one starting with "_" (``url_for`` reads ``_external``,
    ``_method``, ``_scheme``... as its own options, and a visitor could send them)."""
    items = request.args.items() if flat else request.args.lists()
    return {key: value for key, value in items if key not in drop and not key.startswith("_")}
