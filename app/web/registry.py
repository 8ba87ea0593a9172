"""The navigation links and dashboard cards of each role, registered by packages per app.

Each package calls ``register_nav`` and ``register_card`` from its ``init_app``. The entries live
in ``app.extensions["leadex_web"]``, so two apps built in one process (tests, scripts) each have
their own, and registering the same entry twice on one app keeps it once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from flask import Flask, current_app

EXTENSION = "leadex_web"

# A card takes the signed-in user and returns (title, body, link), or None to show nothing.
Card = Callable[[object], "tuple[str, str, str | None] | None"]


@dataclass
class WebRegistry:
    """role -> [(label, endpoint)] and role -> [card], each in the order registered."""

    nav: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    cards: dict[str, list[Card]] = field(default_factory=dict)


def get_registry(app: Flask | None = None) -> WebRegistry:
    """The app's registry (``current_app``'s when none is given), made on first use."""
    app = app or current_app
    return app.extensions.setdefault(EXTENSION, WebRegistry())


def register_nav(app: Flask, role: str, label: str, endpoint: str) -> None:
    """Show a link to ``endpoint`` in the navigation of ``role``'s pages."""
    links = get_registry(app).nav.setdefault(role, [])
    if (label, endpoint) not in links:
        links.append((label, endpoint))


def register_card(app: Flask, role: str, card: Card) -> None:
    """Show ``card(user)`` on ``role``'s dashboard."""
    cards = get_registry(app).cards.setdefault(role, [])
    if card not in cards:
        cards.append(card)


def nav_links(role: str) -> list[tuple[str, str]]:
    return list(get_registry().nav.get(role, ()))


def dashboard_cards(role: str) -> list[Card]:
    return list(get_registry().cards.get(role, ()))
