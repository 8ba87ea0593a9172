"""Web log-ins: what Flask-Login keeps in the session and remember cookie, checked on return.

A user's Flask-Login id is ``"<user id>:<session version>:<log-in time>"`` (``User.get_id``).
Both the session cookie and the remember-me cookie carry it, signed with ``SECRET_KEY``. When
either comes back, ``load_user`` accepts it only while the user is enabled, the version still
matches (log-out, a password change and disabling bump it, ending every copy of every cookie)
and the log-in is younger than ``REMEMBER_COOKIE_DURATION``: the browser's expiry of the cookie
is not trusted, so a copied cookie dies on the server too.
"""

from __future__ import annotations

import time

from flask import current_app
from flask_login import login_user

from app.auth.models import User
from app.auth.queries import get_user

# Longer parts cannot be ours; they would only overflow the database's integers.
_MAX_PART = 18


def now() -> float:
    """Epoch seconds (a function so tests can move the clock)."""
    return time.time()


def load_user(alt_id: str) -> User | None:
    """Flask-Login's user loader: the user of a live log-in, or None."""
    parts = alt_id.split(":")
    if len(parts) != 3 or not all(p.isdigit() and len(p) <= _MAX_PART for p in parts):
        return None
    user_id, version, started = (int(p) for p in parts)
    max_age = current_app.config["REMEMBER_COOKIE_DURATION"].total_seconds()
    if now() - started > max_age:
        return None
    user = get_user(user_id)
    if user is None or not user.is_enabled or user.session_version != version:
        return None
    user.login_started = started
    return user


def start(user: User, *, remember: bool = False) -> None:
    """Log ``user`` in on this browser, from now (a fresh log-in, not a reload)."""
    user.login_started = int(now())
    login_user(user, remember=remember)
