"""Admin settings: GET/PUT /api/v1/admin/settings and the /admin/settings page.

Each bound is tried just inside and just outside; a refused value changes nothing; every change
is audited with its old and new value; the next sale pays the fee an admin just set.
"""

import re

import pytest
from sqlalchemy import select

from app.auth.models import AuditEntry
from app.extensions import db
from app.settings import DEFAULTS, SETTINGS, get_settings, update_settings
from tests.billing.helpers import fund_wallet, sell
from tests.helpers import assert_forbidden, bearer, csrf_token, log_in

URL = "/api/v1/admin/settings"

# (key, just inside, just outside) for each end of each bound.
BOUNDS = [
    ("platform_fee_bps", 0, -1),
    ("platform_fee_bps", 10_000, 10_001),
    ("buyer_dispute_limit_pct", 0, -1),
    ("buyer_dispute_limit_pct", 100, 101),
    ("upheld_dispute_limit_pct", 0, -1),
    ("upheld_dispute_limit_pct", 100, 101),
    ("lookback_days", 1, 0),
    ("lookback_days", 3650, 3651),
    ("seller_response_days", 1, 0),
    ("seller_response_days", 3650, 3651),
    ("aql", 1.0, 1.2),
    ("aql", 6.5, 10.0),
]


def _audits():
    return db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "settings.updated").order_by(AuditEntry.id)
    ).all()


def _stored() -> dict:
    db.session.expire_all()
    row = get_settings()
    return {key: getattr(row, key) for key in SETTINGS}


def test_get_shows_the_defaults_of_the_spec(client, admin):
    response = client.get(URL, headers=bearer(admin))
    assert response.status_code == 200
    assert response.get_json() == DEFAULTS


@pytest.mark.parametrize(("key", "inside", "outside"), BOUNDS)
def test_each_bound_takes_the_value_just_inside_and_refuses_the_one_just_outside(
    client, admin, key, inside, outside
):
    headers = bearer(admin)
    # A valid value sent beside it must not change either.
    valid = {"seller_response_days": 5} if key == "lookback_days" else {"lookback_days": 30}
    refused = client.put(URL, json={key: outside, **valid}, headers=headers)
    assert refused.status_code == 422
    assert list(refused.get_json()["error"]["details"]) == [key]
    assert _stored() == DEFAULTS
    assert _audits() == []

    accepted = client.put(URL, json={key: inside}, headers=headers)
    assert accepted.status_code == 200
    assert accepted.get_json() == {**DEFAULTS, key: inside}
    assert _stored() == {**DEFAULTS, key: inside}


@pytest.mark.parametrize(
    "body",
    [
        {"platform_fee_bps": "1500"},
        {"platform_fee_bps": 1500.0},
        {"platform_fee_bps": True},
        {"aql": "2.5"},
        {"aql": None},
        {"lookback_days": None},
        {"surprise": 1},
        {"platform_fee_bps": 1500, "stream_max_age_pct": 2.0},  # not a key
    ],
)
def test_wrong_json_types_and_unknown_keys_are_422_and_change_nothing(client, admin, body):
    response = client.put(URL, json=body, headers=bearer(admin))
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "validation_error"
    assert _stored() == DEFAULTS
    assert _audits() == []


def test_put_changes_only_the_keys_sent_and_audits_old_and_new(client, admin):
    response = client.put(
        URL, json={"platform_fee_bps": 1500, "aql": 4, "lookback_days": 90}, headers=bearer(admin)
    )
    assert response.status_code == 200
    assert response.get_json() == {**DEFAULTS, "platform_fee_bps": 1500, "aql": 4.0}
    [entry] = _audits()
    assert entry.actor_user_id == admin.id
    # lookback_days was sent with its current value: not a change, not in the audit.
    assert entry.details == {
        "changes": {
            "platform_fee_bps": {"old": 2000, "new": 1500},
            "aql": {"old": 2.5, "new": 4.0},
        }
    }
    again = client.put(URL, json={"platform_fee_bps": 1500}, headers=bearer(admin))
    assert again.status_code == 200
    assert len(_audits()) == 1  # nothing changed, nothing audited


def test_settings_api_is_for_admins_only(client, seller, buyer):
    for user in (seller, buyer):
        assert_forbidden(client.get(URL, headers=bearer(user)))
        assert_forbidden(client.put(URL, json={"platform_fee_bps": 0}, headers=bearer(user)))
    assert client.get(URL).status_code == 401
    assert _stored() == DEFAULTS


def test_the_next_sale_pays_the_fee_the_admin_just_set(client, admin, buyer, seller):
    fund_wallet(buyer.organization_id, 5000)
    before = sell(buyer.organization_id, seller.organization_id, 1000)
    assert (before.fee_bps, before.fee_cents) == (2000, 200)

    response = client.put(URL, json={"platform_fee_bps": 1250}, headers=bearer(admin))
    assert response.status_code == 200
    after = sell(buyer.organization_id, seller.organization_id, 1000)
    assert (after.fee_bps, after.fee_cents, after.seller_cents) == (1250, 125, 875)


def test_update_settings_service_refuses_out_of_bounds_with_details(admin):
    from app.errors import Invalid

    with pytest.raises(Invalid) as raised:
        update_settings(actor=admin, changes={"seller_response_days": 3651, "aql": 2.5})
    assert raised.value.status_code == 422
    assert list(raised.value.details) == ["seller_response_days"]
    assert _stored() == DEFAULTS


# --- the page --------------------------------------------------------------------------------


def _page_text(response) -> str:
    return " ".join(response.get_data(as_text=True).split())


def _form(token, **values):
    # A null setting (the default rule) is an empty field on the page.
    values = {**DEFAULTS, **values}
    return {"csrf_token": token, **{k: "" if v is None else str(v) for k, v in values.items()}}


def test_settings_page_is_for_admins_only_and_linked_in_their_navigation(client, seller, admin):
    assert client.get("/admin/settings").status_code == 302  # to the login page
    log_in(client, seller)
    assert client.get("/admin/settings").status_code == 403
    token = csrf_token(client, "/dashboard")
    assert client.post("/admin/settings", data=_form(token, platform_fee_bps=0)).status_code == 403
    assert 'href="/admin/settings"' not in client.get("/dashboard").get_data(as_text=True)
    client.post("/logout", data={"csrf_token": csrf_token(client, "/dashboard")})
    log_in(client, admin)
    assert 'href="/admin/settings"' in client.get("/dashboard").get_data(as_text=True)
    assert _stored() == DEFAULTS


def test_admin_changes_settings_on_the_page(client, admin):
    log_in(client, admin)
    page = client.get("/admin/settings")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert re.search(r'name="platform_fee_bps"[^>]*value="2000"', html)
    assert re.search(r'<option selected value="2.5">', html)

    token = csrf_token(client, "/admin/settings")
    # Without the CSRF token: refused, nothing changes.
    no_token = dict(_form(token, platform_fee_bps=900))
    del no_token["csrf_token"]
    assert client.post("/admin/settings", data=no_token).status_code == 400
    assert _stored() == DEFAULTS

    saved = client.post(
        "/admin/settings", data=_form(token, platform_fee_bps=900, aql="4"), follow_redirects=True
    )
    assert saved.status_code == 200
    assert "Settings saved." in _page_text(saved)
    assert _stored() == {**DEFAULTS, "platform_fee_bps": 900, "aql": 4.0}
    assert len(_audits()) == 1


def test_an_out_of_bounds_value_on_the_page_is_shown_beside_its_field(client, admin):
    log_in(client, admin)
    token = csrf_token(client, "/admin/settings")
    response = client.post(
        "/admin/settings", data=_form(token, seller_response_days=3651, platform_fee_bps=100)
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    # The error sits in the field's own block, and the typed value is kept.
    block = re.search(r'<div class="field has-error">(.*?)</div>', html, re.S).group(1)
    assert 'name="seller_response_days"' in block and 'value="3651"' in block
    assert "less than or equal to 3650" in block
    assert _stored() == DEFAULTS  # the valid fee did not change either
    assert _audits() == []

    empty = client.post("/admin/settings", data=_form(token, lookback_days=""))
    assert empty.status_code == 422
    assert "Enter the de-duplication look-back." in _page_text(empty)
    assert _stored() == DEFAULTS


def test_update_settings_service_is_for_admins_only(buyer, seller):
    from app.errors import Forbidden

    for actor in (buyer, seller, None):
        with pytest.raises(Forbidden):
            update_settings(actor=actor, changes={"lookback_days": 30})
    assert _stored() == DEFAULTS
