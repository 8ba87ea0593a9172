"""Navigation links and dashboard cards: registered per app, once each (app/web/registry.py)."""

import pytest
from flask import Flask

from app import create_app
from app.web import registry as web
from tests.helpers import csrf_token, log_in, make_user


def card(user):
    return ("Card", "body", None)


@pytest.mark.unit
def test_registering_twice_on_one_app_keeps_one_entry_and_the_order():
    app = Flask(__name__)
    for _ in range(2):
        web.register_nav(app, "seller", "Batches", "marketplace.batches")
        web.register_nav(app, "seller", "Upload", "marketplace.new_batch")
        web.register_card(app, "seller", card)
    state = app.extensions[web.EXTENSION]
    assert state.nav == {
        "seller": [("Batches", "marketplace.batches"), ("Upload", "marketplace.new_batch")]
    }
    assert state.cards == {"seller": [card]}
    with app.app_context():
        assert web.nav_links("seller") == state.nav["seller"]
        assert web.nav_links("buyer") == [] and web.dashboard_cards("admin") == []


@pytest.mark.unit
def test_each_app_has_its_own_registry():
    first, second = Flask("first"), Flask("second")
    web.register_nav(first, "admin", "Money", "billing.admin_money")
    web.register_card(second, "buyer", card)
    assert web.get_registry(first).cards == {} and web.get_registry(second).nav == {}


SELLER_NAV = [
    ("Batches", "marketplace.batches"),
    ("Upload", "marketplace.new_batch"),
    ("Streams", "marketplace.streams"),
    ("Quality", "verification.seller_quality"),
    ("Disputes", "verification.seller_disputes"),
    ("Earnings", "billing.earnings"),
]


def test_two_apps_built_in_one_process_have_independent_navigation(app, client, seller):
    other = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    # Building another app added nothing to this one's navigation.
    for each in (app, other):
        assert web.get_registry(each).nav["seller"] == SELLER_NAV
        assert len(web.get_registry(each).cards["seller"]) == 5
    assert web.get_registry(app) is not web.get_registry(other)
    web.register_nav(other, "seller", "Only there", "web.healthz")
    assert ("Only there", "web.healthz") not in web.get_registry(app).nav["seller"]
    # A test may build another app (and so another Celery app); tasks must go to this one.
    app.extensions["celery"].set_current()
    app.extensions["celery"].set_default()

    log_in(client, seller)
    page = client.get("/dashboard").get_data(as_text=True)
    for label, path in (
        ("Batches", "/seller/batches"),
        ("Disputes", "/seller/disputes"),
        ("Earnings", "/billing/earnings"),
    ):
        assert page.count(f'href="{path}">{label}</a>') == 1
    assert "Only there" not in page


def test_every_role_sees_its_links_once(client):
    for role in ("seller", "buyer", "admin"):
        user = make_user(role)
        log_in(client, user)
        page = client.get("/dashboard").get_data(as_text=True)
        nav = page[page.index('<nav class="nav"') : page.index("</nav>")]
        hrefs = [part.split('"')[0] for part in nav.split('href="')[1:]]
        assert len(hrefs) == len(set(hrefs)), (role, hrefs)
        client.post("/logout", data={"csrf_token": csrf_token(client, "/dashboard")})
