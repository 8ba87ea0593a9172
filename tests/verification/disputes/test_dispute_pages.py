"""The dispute pages: a buyer returns a lead through the form, a seller answers, an admin works the
queue and decides; each sees only its own organisation's disputes."""

import re
from datetime import timedelta

from sqlalchemy import select, update

from app.db import utcnow
from app.extensions import db
from billing import queries as billing_queries
from billing import services as billing_services
from tests.helpers import csrf_token, log_in, make_user
from tests.verification.disputes.flow import bought_leads, dispute, purchased, set_settings
from verification.disputes import views as dispute_views
from verification.disputes.models import Dispute, DisputeResponse

PRICE = 1500


def text(response) -> str:
    """The page with its whitespace runs folded, as a reader sees it."""
    return " ".join(response.get_data(as_text=True).split())


def log_out(client) -> None:
    client.post("/logout", data={"csrf_token": csrf_token(client, "/dashboard")})


def stored(dispute_id: int) -> Dispute:
    db.session.expire_all()
    return db.session.get(Dispute, dispute_id)


def opened(client, auth, buyer, lead, **kwargs) -> int:
    response = dispute(client, auth, buyer, lead, **kwargs)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


# --- buyer ---------------------------------------------------------------------------------------


def test_a_buyer_returns_a_lead_through_the_form_and_follows_it(
    client, auth, buyer, seller, admin
):
    (lead,) = bought_leads(client, auth, buyer, seller, admin)
    log_in(client, buyer)
    path = f"/buyer/disputes/new?lead_id={lead.id}"
    form = client.get(path)
    html = text(form)
    assert form.status_code == 200
    assert "Bad phone: the number is dead or not a phone" in html
    assert 'value="misqualified"' in html
    deadline = purchased(buyer, lead).return_deadline
    assert f"{deadline:%Y-%m-%d %H:%M} UTC" in html
    assert re.search(r"(6 days 23 hours|7 days) left", html), html

    # No CSRF token: refused before anything happens.
    assert client.post(path, data={"reason": "other", "note": "x"}).status_code == 400
    token = csrf_token(client, path)
    missing = client.post(path, data={"csrf_token": token, "reason": "", "note": " "})
    assert missing.status_code == 422
    assert "Choose a reason." in text(missing) and "Say what is wrong" in text(missing)
    assert db.session.scalar(select(Dispute.id)) is None

    response = client.post(
        path, data={"csrf_token": token, "reason": "wrong_person", "note": "A bakery answers"}
    )
    assert response.status_code == 302
    dispute_id = db.session.scalar(select(Dispute.id))
    assert response.headers["Location"] == f"/buyer/disputes/{dispute_id}"
    page = text(client.get(response.headers["Location"]))
    assert "Returned. The seller may answer" in page
    assert "Wrong person" in page and "A bakery answers" in page
    assert "No answer from the seller yet" in page and "Waiting for Leadex staff" in page

    listing = text(client.get("/buyer/disputes"))
    assert f"#{dispute_id}" in listing and "wrong person" in listing
    assert "1 of 1" in listing and "100.0%" in listing and "25%" in listing
    assert f"#{dispute_id}" not in text(client.get("/buyer/disputes?status=accepted"))
    assert f"#{dispute_id}" in text(client.get("/buyer/disputes?status=open"))
    assert "Unknown status" in text(client.get("/buyer/disputes?status=bogus"))


def test_the_return_form_shows_an_automatic_acceptance_with_its_evidence(
    client, auth, buyer, seller, admin
):
    (lead,) = bought_leads(client, auth, buyer, seller, admin)
    db.session.execute(update(type(lead)).where(type(lead).id == lead.id).values(phone="+1555"))
    db.session.commit()
    log_in(client, buyer)
    before = billing_queries.get_wallet_balance(buyer.organization_id)
    path = f"/buyer/disputes/new?lead_id={lead.id}"
    response = client.post(
        path,
        data={"csrf_token": csrf_token(client, path), "reason": "bad_phone", "note": "Dead"},
        follow_redirects=True,
    )
    page = text(response)
    assert "accepted at once" in page and "$15.00 is back in your wallet" in page
    assert "invalid phone" in page  # the re-check's code, readable
    assert billing_queries.get_wallet_balance(buyer.organization_id) == before + PRICE


def test_the_return_form_explains_each_refusal_and_never_fails(client, auth, buyer, seller, admin):
    leads = bought_leads(client, auth, buyer, seller, admin, 4)
    log_in(client, buyer)

    def post(lead):
        path = f"/buyer/disputes/new?lead_id={lead.id}"
        return client.post(
            path, data={"csrf_token": csrf_token(client, path), "reason": "other", "note": "x"}
        )

    # A closed window.
    item = purchased(buyer, leads[0])
    db.session.execute(
        update(type(item))
        .where(type(item).id == item.id)
        .values(return_deadline=utcnow() - timedelta(hours=2))
    )
    db.session.commit()
    page = text(client.get(f"/buyer/disputes/new?lead_id={leads[0].id}"))
    assert "The return window for this lead has closed" in page
    assert "Closed 2 hours ago" in page or "Closed 1 hour 59 minutes ago" in page
    assert "Return the lead</button>" not in page
    late = post(leads[0])
    assert late.status_code == 422 and "return window for this lead has closed" in text(late)

    # Already returned: the page links to the return.
    first = opened(client, auth, buyer, leads[1])
    page = text(client.get(f"/buyer/disputes/new?lead_id={leads[1].id}"))
    assert "You have already returned this lead" in page
    assert f'href="/buyer/disputes/{first}"' in page
    assert post(leads[1]).status_code == 422

    # Over the share: 2 of 4 would be 50% (limit 25%).
    page = text(client.get(f"/buyer/disputes/new?lead_id={leads[2].id}"))
    assert "used your share of returns" in page and "1 of the 4 leads" in page
    refused = post(leads[2])
    assert refused.status_code == 422 and "used your share of returns" in text(refused)

    # The seller was paid meanwhile.
    set_settings(buyer_dispute_limit_pct=100)
    release_at = purchased(buyer, leads[3]).return_deadline
    assert billing_services.release_earnings(now=release_at) >= 1
    page = text(client.get(f"/buyer/disputes/new?lead_id={leads[3].id}"))
    assert "The seller has already been paid for this lead" in page
    paid = post(leads[3])
    assert paid.status_code == 422 and "already been paid" in text(paid)
    assert db.session.scalar(select(Dispute.id).where(Dispute.lead_id != leads[1].id)) is None


def test_a_buyer_cannot_return_or_read_what_is_not_its_own(client, auth, buyer, seller, admin):
    (lead,) = bought_leads(client, auth, buyer, seller, admin)
    dispute_id = opened(client, auth, buyer, lead)
    other = make_user("buyer")
    log_in(client, other)
    assert client.get(f"/buyer/disputes/new?lead_id={lead.id}").status_code == 404
    assert client.get("/buyer/disputes/new").status_code == 404
    assert client.get("/buyer/disputes/new?lead_id=abc").status_code == 404
    assert client.get(f"/buyer/disputes/{dispute_id}").status_code == 404
    assert f"#{dispute_id}" not in text(client.get("/buyer/disputes"))
    assert client.get(f"/seller/disputes/{dispute_id}").status_code == 403
    assert client.get(f"/admin/disputes/{dispute_id}").status_code == 403


# --- seller --------------------------------------------------------------------------------------


def test_a_seller_reads_its_disputes_open_first_and_answers_before_the_deadline(
    client, auth, buyer, seller, admin, monkeypatch
):
    leads = bought_leads(client, auth, buyer, seller, admin, 3)
    set_settings(buyer_dispute_limit_pct=100)
    ids = [opened(client, auth, buyer, lead, note=f"Note {n}") for n, lead in enumerate(leads)]
    client_admin = client.application.test_client()
    assert (
        client_admin.post(
            f"/api/v1/disputes/{ids[2]}/resolution",
            json={"decision": "reject", "note": "Fine lead"},
            headers=auth(admin),
        ).status_code
        == 200
    )
    log_in(client, seller)
    # Open ones first (newest first among them), then the decided one; one per page.
    monkeypatch.setattr(dispute_views, "PAGE_SIZE", 1)
    seen, path = [], "/seller/disputes"
    while path:
        html = client.get(path).get_data(as_text=True)
        seen += [int(n) for n in re.findall(r'href="/seller/disputes/(\d+)"', html)]
        found = re.search(r'href="([^"]+)" rel="next"', html)
        path = found.group(1).replace("&amp;", "&") if found else None
    assert seen == [ids[1], ids[0], ids[2]]

    page = text(client.get(f"/seller/disputes/{ids[0]}"))
    assert "Note 0" in page and re.search(r"2 days 23 hours left|3 days left", page)
    url = f"/seller/disputes/{ids[0]}"
    assert client.post(url, data={"note": "It is valid"}).status_code == 400
    token = csrf_token(client, url)
    assert client.post(url, data={"csrf_token": token, "note": ""}).status_code == 422
    sent = client.post(url, data={"csrf_token": token, "note": "Called her, she confirmed"})
    assert sent.status_code == 302
    assert "Called her, she confirmed" in text(client.get(url))
    decided = text(client.get(f"/seller/disputes/{ids[2]}"))
    assert "No answer is possible: the dispute was decided" in decided and "Fine lead" in decided


def test_a_late_seller_answer_is_explained_and_not_kept(client, auth, buyer, seller, admin):
    (lead,) = bought_leads(client, auth, buyer, seller, admin)
    dispute_id = opened(client, auth, buyer, lead)
    log_in(client, seller)
    url = f"/seller/disputes/{dispute_id}"
    token = csrf_token(client, url)
    db.session.execute(
        update(Dispute)
        .where(Dispute.id == dispute_id)
        .values(deadline=utcnow() - timedelta(minutes=5))
    )
    db.session.commit()
    page = text(client.get(url))
    assert "No answer is possible: the time to answer ended" in page
    assert "Send answer" not in page
    late = client.post(url, data={"csrf_token": token, "note": "Sorry, late"})
    assert late.status_code == 409
    assert "The time to answer this dispute has passed" in text(late)
    assert db.session.scalar(select(DisputeResponse.id)) is None


def test_a_seller_sees_which_field_matched_a_duplicate_and_nothing_of_the_other_sale(
    client, auth, buyer, seller, admin
):
    (lead,) = bought_leads(client, auth, buyer, seller, admin)
    dispute_id = opened(client, auth, buyer, lead, reason="duplicate")
    assert stored(dispute_id).status == "open"  # no earlier sale: it waits
    # As the opening records a match (the API tests prove the lookup): the date of the other sale.
    db.session.execute(
        update(Dispute)
        .where(Dispute.id == dispute_id)
        .values(
            evidence={
                "recheck": None,
                "consent": None,
                "duplicate": {"matched": "email", "purchased_at": "2031-02-03T04:05:00+00:00"},
            }
        )
    )
    db.session.commit()
    other_seller = make_user("seller")
    log_in(client, other_seller)
    assert client.get(f"/seller/disputes/{dispute_id}").status_code == 404
    assert f"#{dispute_id}" not in text(client.get("/seller/disputes"))
    log_out(client)

    log_in(client, seller)
    page = text(client.get(f"/seller/disputes/{dispute_id}"))
    assert "matched on <strong>email</strong>" in page and "2031-02-03" not in page
    log_out(client)
    log_in(client, admin)
    assert "2031-02-03 04:05" in text(client.get(f"/admin/disputes/{dispute_id}"))


# --- admin ---------------------------------------------------------------------------------------


def test_the_admin_queue_lists_open_disputes_oldest_first_with_filters(
    client, auth, buyer, seller, admin
):
    leads = bought_leads(client, auth, buyer, seller, admin, 2)
    set_settings(buyer_dispute_limit_pct=100)
    older = opened(client, auth, buyer, leads[0], reason="fake_info")
    newer = opened(client, auth, buyer, leads[1], reason="outside_area")
    db.session.execute(
        update(Dispute)
        .where(Dispute.id == older)
        .values(created_at=utcnow() - timedelta(days=2, hours=3))
    )
    db.session.commit()
    log_in(client, buyer)
    assert client.get("/admin/disputes").status_code == 403
    log_out(client)
    log_in(client, admin)
    html = client.get("/admin/disputes").get_data(as_text=True)
    page = " ".join(html.split())
    order = [int(n) for n in re.findall(r'href="/admin/disputes/(\d+)"', html)]
    assert order == [older, newer]
    assert "2 days 3 hours" in page and "fake info" in page and "outside area" in page
    assert buyer.organization.name in page and seller.organization.name in page
    assert "2 waiting for a decision, the oldest for 2 days 3 hours" in page
    filtered = client.get("/admin/disputes?reason=outside_area").get_data(as_text=True)
    assert re.findall(r'href="/admin/disputes/(\d+)"', filtered) == [str(newer)]
    assert "Unknown reason" in text(client.get("/admin/disputes?reason=nope"))
    assert "No dispute matches" in text(client.get("/admin/disputes?status=accepted"))

    dashboard = text(client.get("/dashboard"))
    assert "2 waiting · oldest for 2 days 3 hours" in dashboard
    assert 'href="/admin/disputes">Disputes</a>' in client.get("/dashboard").get_data(True)


def test_an_admin_accepts_once_and_a_second_post_moves_no_money(
    client, auth, buyer, seller, admin
):
    (lead,) = bought_leads(client, auth, buyer, seller, admin, company="Acme Roofing")
    dispute_id = opened(client, auth, buyer, lead, reason="other", note="Hangs up")
    log_in(client, admin)
    url = f"/admin/disputes/{dispute_id}"
    page = text(client.get(url))
    assert lead.email in page and "Acme Roofing" in page  # the full lead
    assert "$15.00" in page and "Return deadline" in page and "Hangs up" in page
    assert "Quality score" in page and "Returned 1 of 1 lead bought" in page
    assert "Record decision" in page

    assert client.post(url, data={"decision": "accept", "note": "x"}).status_code == 400
    token = csrf_token(client, url)
    no_note = client.post(url, data={"csrf_token": token, "decision": "accept", "note": ""})
    assert no_note.status_code == 422 and "A note is required." in text(no_note)
    assert stored(dispute_id).status == "open"

    wallet = billing_queries.get_wallet_balance(buyer.organization_id)
    accepted = client.post(
        url, data={"csrf_token": token, "decision": "accept", "note": "Number is dead"}
    )
    assert accepted.status_code == 302
    assert billing_queries.get_wallet_balance(buyer.organization_id) == wallet + PRICE
    assert "Accepted: the buyer is credited $15.00" in text(client.get("/admin/disputes"))

    again = client.post(
        url, data={"csrf_token": token, "decision": "accept", "note": "Number is dead"}
    )
    assert again.status_code == 409
    assert "already been resolved" in text(again)
    db.session.expire_all()
    assert billing_queries.get_wallet_balance(buyer.organization_id) == wallet + PRICE
    done = text(client.get(url))
    assert "Record decision" not in done and "Number is dead" in done and admin.email in done

    # The buyer and the seller read the decision.
    log_out(client)
    log_in(client, buyer)
    assert "Number is dead" in text(client.get(f"/buyer/disputes/{dispute_id}"))


def test_accepting_misqualified_needs_the_four_answers_and_changes_nothing_without(
    client, auth, buyer, seller, admin
):
    (lead,) = bought_leads(client, auth, buyer, seller, admin)
    dispute_id = opened(client, auth, buyer, lead, reason="misqualified")
    log_in(client, admin)
    url = f"/admin/disputes/{dispute_id}"
    assert 'name="budget"' in client.get(url).get_data(as_text=True)
    token = csrf_token(client, url)
    wallet = billing_queries.get_wallet_balance(buyer.organization_id)
    missing = client.post(
        url,
        data={"csrf_token": token, "decision": "accept", "note": "Renting", "budget": "yes"},
    )
    assert missing.status_code == 422
    assert text(missing).count("Say yes or no.") == 3
    assert stored(dispute_id).status == "open"
    assert billing_queries.get_wallet_balance(buyer.organization_id) == wallet

    answers = {"budget": "yes", "authority": "no", "need": "yes", "timing": "no"}
    done = client.post(
        url, data={"csrf_token": token, "decision": "accept", "note": "Renting", **answers}
    )
    assert done.status_code == 302
    decided = stored(dispute_id)
    assert decided.status == "accepted"
    assert decided.answers == {"budget": True, "authority": False, "need": True, "timing": False}
    assert billing_queries.get_wallet_balance(buyer.organization_id) == wallet + PRICE


def test_the_figures_page_breaks_disputes_down_and_times_them(client, auth, buyer, seller, admin):
    leads = bought_leads(client, auth, buyer, seller, admin, 2)
    set_settings(buyer_dispute_limit_pct=100)
    first = opened(client, auth, buyer, leads[0], reason="fake_info")
    opened(client, auth, buyer, leads[1], reason="outside_area")
    log_in(client, admin)
    url = f"/admin/disputes/{first}"
    client.post(
        url, data={"csrf_token": csrf_token(client, url), "decision": "reject", "note": "Real"}
    )
    page = text(client.get("/admin/disputes/figures"))
    assert seller.organization.name in page and "Solar" in page
    assert "fake info" in page and "outside area" in page
    assert "By an admin" in page and "less than a minute" in page
    assert client.get("/admin/disputes/figures").status_code == 200
    log_out(client)
    log_in(client, seller)
    assert client.get("/admin/disputes/figures").status_code == 403


def test_each_role_has_a_disputes_card_and_link(client, auth, buyer, seller, admin):
    leads = bought_leads(client, auth, buyer, seller, admin, 4)
    opened(client, auth, buyer, leads[0])
    log_in(client, buyer)
    dashboard = client.get("/dashboard").get_data(as_text=True)
    assert 'href="/buyer/disputes">Disputes</a>' in dashboard
    assert "1 open · 1 of 4 leads returned in 30 days (limit 25%)" in " ".join(dashboard.split())
    log_out(client)
    log_in(client, seller)
    dashboard = client.get("/dashboard").get_data(as_text=True)
    assert 'href="/seller/disputes">Disputes</a>' in dashboard
    assert "1 open dispute on your leads" in dashboard
