"""The shared web layout: base templates, stylesheet, landing page and role dashboards.

Besides the views: the per-app registry of navigation links and dashboard cards (registry.py),
the one handler of form posts' errors (forms.py), server-drawn charts (charts.py) and the
template filters (filters.py).
"""

from __future__ import annotations

from flask import Flask
from flask_login import current_user

from app.notifications import unread_count
from app.web.filters import register_filters
from app.web.registry import get_registry, nav_links


def init_app(app: Flask) -> None:
    """Filters, the layout's navigation and an empty registry for the packages to fill."""
    get_registry(app)
    register_filters(app)
    app.context_processor(
        lambda: {"nav_links": nav_links, "unread_notifications": _unread_notifications}
    )


def _unread_notifications() -> int:
    """The navigation's badge: called by the layout only, so a page without it counts nothing."""
    if not current_user.is_authenticated:
        return 0
    return unread_count(current_user.organization_id)
