"""Requests in these tests load their user and CSRF token afresh, as on a real server.

The test client runs every request inside the test's own app context, so what Flask-Login and
Flask-WTF keep in ``g`` (the loaded user, the raw CSRF token) would otherwise carry over from
one request, and one client, to the next: a copied cookie could not be told from the original.
"""

import pytest
from flask import g, request_started


def _forget_loaded_user(sender, **extra):
    g.pop("_login_user", None)
    g.pop("csrf_token", None)


@pytest.fixture(autouse=True)
def _fresh_user_per_request(request):
    if request.node.get_closest_marker("unit"):
        yield
        return
    app = request.getfixturevalue("app")
    request_started.connect(_forget_loaded_user, app)
    yield
    request_started.disconnect(_forget_loaded_user, app)
