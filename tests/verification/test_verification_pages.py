"""The verification web pages: the queue and an item, the sellers table, quality pages."""

import re

from sqlalchemy import select

from app.auth.models import AuditEntry
from app.extensions import db
from app.settings import update_settings
from marketplace.models import SellerAccount
from tests.helpers import csrf_token, log_in, make_user
from tests.verification.flow import items, pass_batch, spot_check, upload
from verification import services
from verification.models import SpotCheckItem
from verification.rules import csp


def text(response) -> str:
    """The page with its whitespace runs folded, as a reader sees it."""
    return " ".join(response.get_data(as_text=True).split())


def test_verification_admin_pages_are_for_admins_only(client, seller, buyer):
    batch = upload(seller, 3)
    item = items(batch.id)[0]
    paths = [
        "/admin/spot-checks",
        f"/admin/spot-checks/{item.id}",
        "/admin/sellers",
        f"/admin/sellers/{seller.organization_id}",
    ]
    for path in paths:
        assert client.get(path).status_code == 302  # to the login page
    for user in (seller, buyer):
        log_in(client, user)
        for path in paths:
            assert client.get(path).status_code == 403, (user.role, path)
        client.post("/logout", data={"csrf_token": csrf_token(client, "/dashboard")})
    log_in(client, buyer)
    assert client.get("/seller/quality").status_code == 403


def test_an_admin_works_the_queue_through_the_pages(client, seller, admin):
    batch = upload(seller, 3, company="Acme Roofing", need="Cut the power bill")
    log_in(client, admin)
    queue = text(client.get("/admin/spot-checks"))
    sample = items(batch.id)
    assert "3 sampled leads to call in 1 batch" in queue
    for item in sample:
        assert f'href="/admin/spot-checks/{item.id}"' in queue

    first = sample[0]
    page = client.get(f"/admin/spot-checks/{first.id}")
    html = text(page)
    lead = first.lead
    assert page.status_code == 200
    assert lead.email in html and "+1 415" in html and "Acme Roofing" in html
    assert "Did you ask to be contacted about Solar around" in html
    assert "What are you looking to solve?" in html and "When do you plan to decide?" in html
    assert "Cut the power bill" in html  # the seller's answers
    assert 'value="misqualified"' in html and 'name="budget"' in html and 'name="timing"' in html

    # No CSRF token: refused, nothing recorded.
    assert (
        client.post(f"/admin/spot-checks/{first.id}", data={"outcome": "confirmed"}).status_code
        == 400
    )
    token = csrf_token(client, f"/admin/spot-checks/{first.id}")
    missing = client.post(f"/admin/spot-checks/{first.id}", data={"csrf_token": token})
    assert missing.status_code == 422 and "Choose an outcome." in text(missing)

    response = client.post(
        f"/admin/spot-checks/{first.id}",
        data={
            "csrf_token": token,
            "outcome": "misqualified",
            "budget": "y",
            "need": "y",
            "note": "Renting, landlord decides.",
        },
    )
    # Lot of 3, Ac 0: that one defect rejects the batch, so no other call is needed.
    assert response.status_code == 302 and response.headers["Location"] == "/admin/spot-checks"
    assert f"Batch #{batch.id} failed its spot-check" in text(client.get("/admin/spot-checks"))
    db.session.expire_all()
    stored = db.session.get(SpotCheckItem, first.id)
    assert stored.outcome == "misqualified" and stored.note == "Renting, landlord decides."
    assert stored.answers == {"budget": True, "authority": False, "need": True, "timing": False}
    assert spot_check(batch.id).decision == "rejected"
    after = client.get(f"/admin/spot-checks/{sample[1].id}")
    assert after.status_code == 200 and "Not needed" in text(after)
    done = text(client.get(f"/admin/spot-checks/{first.id}"))
    assert "misqualified" in done and "Record outcome" not in done


def test_recording_through_the_page_lists_a_batch(client, seller, admin):
    batch = upload(seller, 2)
    log_in(client, admin)
    token = csrf_token(client, "/admin/spot-checks")
    for item in items(batch.id):
        response = client.post(
            f"/admin/spot-checks/{item.id}", data={"csrf_token": token, "outcome": "confirmed"}
        )
        assert response.status_code == 302
    assert response.headers["Location"] == "/admin/spot-checks"
    flashed = text(client.get("/admin/spot-checks"))
    assert f"Batch #{batch.id} passed its spot-check and is listed" in flashed
    assert "Nothing to call" in flashed


def test_the_sellers_table_sorts_by_each_figure_and_holds_with_a_note(client, admin):
    careful = make_user("seller", email="careful@example.com", org="Careful Leads")
    sloppy = make_user("seller", email="sloppy@example.com", org="Sloppy Leads")
    upload(careful, 10)
    upload(sloppy, 10, country="XX")  # every row rejected by the checks
    log_in(client, admin)

    def order(query):
        html = text(client.get(f"/admin/sellers?{query}"))
        return re.findall(r">(Careful|Sloppy) Leads</a>", html)

    assert order("sort=rejection_rate&dir=desc") == ["Sloppy", "Careful"]
    assert order("sort=rejection_rate&dir=asc") == ["Careful", "Sloppy"]
    assert order("sort=leads_submitted&dir=desc") == ["Careful", "Sloppy"] or order(
        "sort=leads_submitted&dir=desc"
    ) == ["Sloppy", "Careful"]
    assert order("sort=quality_score&dir=desc") == ["Careful", "Sloppy"]
    assert order("sort=name") == ["Careful", "Sloppy"]
    assert order("sort=nonsense") == ["Careful", "Sloppy"]

    token = csrf_token(client, "/admin/sellers")
    url = f"/admin/sellers/{sloppy.organization_id}/hold"
    refused = client.post(url, data={"csrf_token": token, "note": "  "})
    assert refused.status_code == 422 and "A note is required." in text(refused)
    assert not getattr(db.session.get(SellerAccount, sloppy.organization_id), "is_on_hold", 0)

    response = client.post(url, data={"csrf_token": token, "note": "Every row was bad."})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(SellerAccount, sloppy.organization_id).is_on_hold
    html = text(client.get("/admin/sellers"))
    assert "Sloppy Leads is on hold." in html and "Clear hold" in html
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "seller.hold_set"))
    assert entry.actor_user_id == admin.id and entry.details["note"] == "Every row was bad."

    clear = f"/admin/sellers/{sloppy.organization_id}/clear-hold"
    assert client.post(clear, data={"csrf_token": token, "note": ""}).status_code == 422
    assert (
        client.post(clear, data={"csrf_token": token, "note": "Fixed their form."}).status_code
        == 302
    )
    db.session.expire_all()
    assert not db.session.get(SellerAccount, sloppy.organization_id).is_on_hold


def test_the_seller_quality_page_shows_figures_a_weekly_chart_and_the_record(
    client, seller, admin
):
    listed = upload(seller, 8)
    pass_batch(admin, listed.id)
    waiting = upload(seller, 3)
    log_in(client, seller)
    page = client.get("/seller/quality")
    html = text(page)
    assert page.status_code == 200
    assert "Quality score" in html and "normal inspection" in html
    assert "Rows rejected by the automatic checks" in html and "95% range" in html
    # The chart is inline SVG drawn on the server: no script, no CDN.
    assert "<svg" in html and "<polyline" in html and "<script" not in html
    assert "cdn" not in html.lower()
    # Each batch's inspection record: its plan, figures and decision.
    assert f"#{listed.id}" in html and f"#{waiting.id}" in html
    assert "code C" in html and "accept ≤ 0" in html and "accepted" in html
    assert "in progress" in html

    log_in_admin = client.post("/logout", data={"csrf_token": csrf_token(client, "/dashboard")})
    assert log_in_admin.status_code == 302
    log_in(client, admin)
    detail = text(client.get(f"/admin/sellers/{seller.organization_id}"))
    assert "Put on hold" in detail and f"#{listed.id}" in detail


def test_the_public_page_explains_the_score_and_the_sampling_plan(client):
    page = client.get("/quality")
    html = text(page)
    assert page.status_code == 200
    assert "ISO 2859-1" in html and "general inspection level II" in html
    assert "2.5%" in html
    assert "cautious end of its 95% confidence range" in html  # QUALITY_SCORE_FORMULA
    # The lot of 501 to 1,200 rows: code J, n 80, accept 5, reject at 6.
    assert re.search(r"501 – 1,200</td>\s*<td>J</td>\s*<td[^>]*>n 80 · 5/6", html)


def test_navigation_and_dashboard_cards(client, seller, admin):
    upload(seller, 3)
    log_in(client, admin)
    html = text(client.get("/dashboard"))
    assert 'href="/admin/spot-checks"' in html and 'href="/admin/sellers"' in html
    assert "3 sampled leads to call in 1 batch" in html
    client.post("/logout", data={"csrf_token": csrf_token(client, "/dashboard")})
    log_in(client, seller)
    html = text(client.get("/dashboard"))
    assert 'href="/seller/quality"' in html and "Quality score" in html


def test_an_outcome_recorded_by_another_admin_meanwhile_is_shown_on_the_item_page(
    client, seller, admin, monkeypatch
):
    """Both admins opened the item while it was pending; the second one's post is refused by
    the service, and the refusal is shown on the item's page, not on a 409 error page."""
    batch = upload(seller, 3)
    first = items(batch.id)[0]
    other_admin = make_user("admin")
    log_in(client, admin)
    token = csrf_token(client, f"/admin/spot-checks/{first.id}")
    record_outcome = services.record_outcome

    def recorded_first_by_the_other_admin(**kwargs):
        record_outcome(actor=other_admin, item_id=kwargs["item_id"], outcome="confirmed")
        return record_outcome(**kwargs)

    monkeypatch.setattr(services, "record_outcome", recorded_first_by_the_other_admin)
    response = client.post(
        f"/admin/spot-checks/{first.id}",
        data={"csrf_token": token, "outcome": "fake", "note": "Nobody by that name."},
    )
    html = text(response)
    assert response.status_code == 200
    assert "flash-warning" in html and services.AlreadyRecorded.message in html
    assert "Record outcome" not in html and "confirmed" in html  # the item as it is now
    db.session.expire_all()
    stored = db.session.get(SpotCheckItem, first.id)
    assert stored.outcome == "confirmed" and stored.note is None


def test_clearing_the_hold_of_a_seller_not_on_hold_is_a_warning_on_the_sellers_page(
    client, seller, admin
):
    log_in(client, admin)
    token = csrf_token(client, "/admin/sellers")
    response = client.post(
        f"/admin/sellers/{seller.organization_id}/clear-hold",
        data={"csrf_token": token, "note": "Fixed."},
        headers={"Referer": "/admin/sellers?sort=name"},
    )
    assert (
        response.status_code == 302 and response.headers["Location"] == "/admin/sellers?sort=name"
    )
    html = text(client.get("/admin/sellers?sort=name"))
    assert "flash-warning" in html and services.NotOnHold.message in html


def test_the_public_page_explains_continuous_sampling_with_the_current_settings(client, admin):
    html = text(client.get("/quality"))
    assert "CSP-1" in html and "MIL-STD-1235" in html
    assert "i = 54" in html and "f = 0.1" in html and "at most <strong>2%" in html
    assert "gives an AOQL of <strong>2.000%" in html
    assert "more than 108 leads" in html and "only they can resume it" in html
    for mode in ("Screening", "Sampling", "Paused"):
        assert f"<strong>{mode}</strong>:" in html
    update_settings(
        actor=admin,
        changes={
            "stream_sampling_fraction": 0.2,
            "stream_aoql_pct": 1.0,
            "stream_screening_limit": 150,
        },
    )
    html = text(client.get("/quality"))
    i = csp.clearance_number(f=0.2, aoql_pct=1.0)
    assert f"i = {i}" in html and "f = 0.2" in html and "more than 150 leads" in html
    current = '<td>0.2 <span class="badge badge-info badge-plain">Leadex</span></td>'
    assert f'{current}<td class="num">{i}</td>' in html
