"""The shared web layout: base templates, stylesheet, landing page and role dashboards.

Besides the views: the per-app registry of navigation links and dashboard cards (registry.py),
the one handler of form posts' errors (forms.py), server-drawn charts (charts.py) and the
template filters (filters.py).
"""

from __future__ import annotations

from flask import Flask

from app.web.filters import register_filters
from app.web.registry import get_registry, nav_links


def init_app(app: Flask) -> None:
    """Filters, the layout's navigation and an empty registry for the packages to fill."""
    get_registry(app)
    register_filters(app)
    app.context_processor(lambda: {"nav_links": nav_links})
