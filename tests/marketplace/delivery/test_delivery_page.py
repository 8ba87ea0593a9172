"""The buyer's /buyer/delivery page: the URL form, the secret shown once, rotation, the
attempts with their state, resend; CSRF on every form; others' attempts are 404."""

import re
import socket

from sqlalchemy import func, select

from app.extensions import db
from marketplace.delivery import services as delivery
from marketplace.delivery.models import DeliveryAttempt, DeliveryEndpoint
from marketplace.purchases import services as purchases
from tests.billing.helpers import fund_wallet
from tests.helpers import assert_forbidden, csrf_token, field_html, make_user
from tests.marketplace.listings.market import list_leads

SECRET_RE = re.compile(r"whsec_[A-Za-z0-9_-]+")


def closed_port_url() -> str:
    """A local URL nothing listens on: each try fails at once (connection refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/hook"


def endpoint_of(buyer):
    db.session.expire_all()
    return db.session.scalar(
        select(DeliveryEndpoint).where(DeliveryEndpoint.organization_id == buyer.organization_id)
    )


def attempt_count(buyer) -> int:
    db.session.expire_all()
    return db.session.scalar(
        select(func.count()).where(DeliveryAttempt.organization_id == buyer.organization_id)
    )


def test_setting_the_url_shows_the_secret_once(client, login, buyer):
    login(buyer)
    page = client.get("/buyer/delivery")
    assert page.status_code == 200 and "Set a URL first" in page.get_data(as_text=True)
    token = csrf_token(client, "/buyer/delivery")
    url = "https://hooks.example.com/leadex"
    saved = client.post("/buyer/delivery", data={"csrf_token": token, "url": url, "active": "y"})
    assert saved.status_code == 200 and saved.headers["Cache-Control"] == "no-store"
    shown = SECRET_RE.findall(saved.get_data(as_text=True))
    assert shown == [endpoint_of(buyer).secret]
    again = client.get("/buyer/delivery").get_data(as_text=True)
    assert not SECRET_RE.search(again) and url in again
    # Saving the URL again keeps the secret, and does not show it.
    other = "https://hooks.example.com/v2"
    resaved = client.post("/buyer/delivery", data={"csrf_token": token, "url": other})
    assert resaved.status_code == 302
    assert not SECRET_RE.search(client.get(resaved.location).get_data(as_text=True))
    assert endpoint_of(buyer).url == other and endpoint_of(buyer).secret == shown[0]
    assert endpoint_of(buyer).active is False  # the box was not ticked


def test_rotating_makes_a_new_secret_shown_once(client, login, buyer):
    login(buyer)
    token = csrf_token(client, "/buyer/delivery")
    assert client.post("/buyer/delivery/secret", data={"csrf_token": token}).status_code == 404
    delivery.set_endpoint(buyer=buyer, url="https://hooks.example.com/a")
    old = endpoint_of(buyer).secret
    rotated = client.post("/buyer/delivery/secret", data={"csrf_token": token})
    assert rotated.status_code == 200
    new = endpoint_of(buyer).secret
    assert new != old and SECRET_RE.findall(rotated.get_data(as_text=True)) == [new]
    assert not SECRET_RE.search(client.get("/buyer/delivery").get_data(as_text=True))


def test_a_bad_url_is_shown_beside_the_field_and_changes_nothing(client, login, buyer):
    delivery.set_endpoint(buyer=buyer, url="https://hooks.example.com/a")
    login(buyer)
    token = csrf_token(client, "/buyer/delivery")
    for bad, problem in (
        ("ftp://files.example.com/x", "must be an http or https URL with a host"),
        ("not a url", "must be an http or https URL with a host"),
        ("", "Give the URL that receives your leads."),
        ("https://x.example.com/" + "a" * 2100, "Field cannot be longer than 2048 characters."),
    ):
        refused = client.post(
            "/buyer/delivery", data={"csrf_token": token, "url": bad, "active": "y"}
        )
        assert refused.status_code == 422, bad
        html = refused.get_data(as_text=True)
        field = field_html(html, "url")
        assert problem in field and 'aria-invalid="true"' in field
        assert not SECRET_RE.search(html)
        assert endpoint_of(buyer).url == "https://hooks.example.com/a"


def test_attempts_show_their_state_and_resend_sends_again(client, login, buyer):
    url = closed_port_url()
    delivery.set_endpoint(buyer=buyer, url=url)
    (lead,) = list_leads(make_user("seller"), {})
    fund_wallet(buyer.organization_id, 10_000)
    purchase = purchases.purchase_leads(buyer=buyer, lead_ids=[lead.id])
    login(buyer)
    html = " ".join(client.get("/buyer/delivery").get_data(as_text=True).split())
    (attempt,) = db.session.scalars(select(DeliveryAttempt)).all()
    assert attempt.status == "failed" and attempt.next_retry_at is not None
    assert f'id="attempt-{attempt.id}"' in html and "failed" in html
    assert "ConnectionError" in html  # what went wrong
    assert attempt.next_retry_at.strftime("%Y-%m-%d %H:%M") in html  # the next try
    purchase_page = client.get(f"/buyer/purchases/{purchase.id}").get_data(as_text=True)
    assert "failed" in purchase_page and "next try" in purchase_page

    token = csrf_token(client, "/buyer/delivery")
    resend = f"/buyer/delivery/attempts/{attempt.id}/resend"
    assert client.post(resend).status_code == 400  # no CSRF token
    assert attempt_count(buyer) == 1
    sent = client.post(resend, data={"csrf_token": token})
    assert sent.status_code == 302
    assert attempt_count(buyer) == 2
    assert f"Lead #{lead.id} is being sent again." in client.get(sent.location).get_data(
        as_text=True
    )


def test_others_attempts_are_404_and_sellers_are_refused(client, login, buyer, seller):
    other = make_user("buyer")
    delivery.set_endpoint(buyer=other, url=closed_port_url())
    (lead,) = list_leads(make_user("seller"), {})
    fund_wallet(other.organization_id, 10_000)
    purchases.purchase_leads(buyer=other, lead_ids=[lead.id])
    (attempt,) = db.session.scalars(select(DeliveryAttempt)).all()
    delivery.set_endpoint(buyer=buyer, url="https://hooks.example.com/mine")
    login(buyer)
    assert f'id="attempt-{attempt.id}"' not in client.get("/buyer/delivery").get_data(as_text=True)
    token = csrf_token(client, "/buyer/delivery")
    response = client.post(
        f"/buyer/delivery/attempts/{attempt.id}/resend", data={"csrf_token": token}
    )
    assert response.status_code == 404
    assert attempt_count(other) == 1

    client.post("/logout", data={"csrf_token": token})
    login(seller)
    assert_forbidden(client.get("/buyer/delivery", headers={"Accept": "application/json"}))
    seller_token = csrf_token(client, "/dashboard")
    posted = client.post(
        "/buyer/delivery", data={"csrf_token": seller_token, "url": "https://x.example.com"}
    )
    assert posted.status_code == 403 and endpoint_of(seller) is None


def test_the_url_form_needs_its_csrf_token(client, login, buyer):
    login(buyer)
    response = client.post("/buyer/delivery", data={"url": "https://hooks.example.com/a"})
    assert response.status_code == 400 and endpoint_of(buyer) is None
