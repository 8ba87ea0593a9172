"""The app-wide template filters (app/web/filters.py): money, phone numbers, rates."""

import pytest
from flask import Flask, render_template_string

from app.web.filters import FILTERS, pct, phone, register_filters

pytestmark = pytest.mark.unit


def test_phone_is_shown_as_people_read_it():
    assert phone("+14152001000") == "+1 415-200-1000"
    assert phone("+447911123456") == "+44 7911 123456"


def test_a_missing_or_unparsable_phone_is_shown_as_it_is():
    assert phone(None) == "" and phone("") == ""
    assert phone("not a number") == "not a number"


def test_pct_shows_a_rate_as_a_percentage_and_a_missing_rate_as_a_dash():
    assert pct(0.125) == "12.5%"
    assert pct(0) == "0.0%" and pct(1) == "100.0%"
    assert pct(0.12345, 2) == "12.35%"
    assert pct(None) == "—"


def test_filters_are_registered_on_an_app():
    app = Flask(__name__)
    register_filters(app)
    assert set(FILTERS) <= set(app.jinja_env.filters)
    with app.app_context():
        rendered = render_template_string(
            "{{ 123456|dollars }} {{ 0.5|pct }} {{ '+14152001000'|phone }}"
        )
    assert rendered == "$1,234.56 50.0% +1 415-200-1000"
