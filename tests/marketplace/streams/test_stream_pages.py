"""The seller's stream pages: the list and its form, a stream's live counters, plan, history and
curl examples that work as printed; pause and resume; others' streams are 404."""

from __future__ import annotations

import html
import json
import re

from sqlalchemy import func, select

from app.extensions import db
from marketplace.streams import services as streams
from marketplace.streams.models import Stream
from tests.helpers import assert_forbidden, bearer, csrf_token, field_html, make_user
from tests.marketplace.streams.helpers import CONTACT, pending_items
from tests.verification.flow import rows
from verification import services as verification


def text(response) -> str:
    return " ".join(response.get_data(as_text=True).split())


def words(page: str) -> str:
    """The page's text as a person reads it: tags and runs of spaces gone."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def count() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Stream))


def opened(seller, **terms) -> int:
    terms = {"vertical": "solar", "name": "Roof form", "price_cents": 1250} | terms
    return streams.create_stream(seller=seller, **terms).id


def curl_request(page_html: str, example: str) -> tuple[str, dict, str]:
    """(path, JSON body, whole command) of the curl example ``example`` on the page."""
    block = page_html[page_html.index(f'id="{example}"') :]
    command = html.unescape(block[: block.index("</pre>")])
    url = re.search(r"curl -X POST '([^']+)'", command).group(1)
    body = json.loads(re.search(r"-d '(.+)'", command).group(1))
    return url, body, command


def test_a_seller_opens_a_stream_from_the_list_and_the_examples_work(client, login, seller):
    login(seller)
    dashboard = text(client.get("/dashboard"))
    assert 'href="/seller/streams"' in dashboard
    assert "No stream yet: post single leads live, by ping and post." in dashboard
    token = csrf_token(client, "/seller/streams")
    created = client.post(
        "/seller/streams",
        data={
            "csrf_token": token, "vertical": "solar", "name": "Roof quote form",
            "price": "12.50", "max_sales": "2",
        },
    )  # fmt: skip
    assert created.status_code == 302
    stream_id = db.session.scalar(select(Stream.id))
    assert created.location == f"/seller/streams/{stream_id}"
    listed = text(client.get("/seller/streams"))
    row = listed[listed.index(f'id="stream-{stream_id}"') :]
    row = row[: row.index("</tr>")]
    assert "Roof quote form" in row and "$12.50" in row and "Shared (up to 2 buyers)" in row
    assert "active" in row and "screening" in row and ">Pause<" in row

    page = client.get(f"/seller/streams/{stream_id}").get_data(as_text=True)
    seen = words(page)
    assert "0 of 54 conforming in a row" in seen and "0 screened of at most 108" in seen
    assert "Clearance number i 54 Sampling fraction f 0.1 AOQL 2.00%" in seen
    assert "screening stream opened" in seen
    ping_url, ping_body, ping_command = curl_request(page, "ping-example")
    post_url, post_body, post_command = curl_request(page, "post-example")
    assert ping_url == f"http://localhost/api/v1/streams/{stream_id}/pings"
    assert post_url == f"http://localhost/api/v1/streams/{stream_id}/leads"
    assert "Authorization: Bearer $LEADEX_TOKEN" in ping_command
    assert "Idempotency-Key" in post_command
    assert not set(CONTACT) & set(ping_body) and set(CONTACT) <= set(post_body)

    # As printed, with a real token: the ping answers, the post waits for inspection.
    headers = bearer(seller)
    pinged = client.post(ping_url, json=ping_body, headers=headers)
    assert pinged.status_code == 200 and pinged.get_json()["would_sell"] is False
    posted = client.post(post_url, json=post_body, headers=headers | {"Idempotency-Key": "k1"})
    assert posted.status_code == 201, posted.get_json()
    assert posted.get_json()["status"] == "inspection"

    live = client.get(f"/seller/streams/{stream_id}/status.json").get_json()
    assert live["counts"] == {
        "posted": 1, "rejected": 0, "duplicates": 0, "inspection": 1, "listed": 0, "sold": 0
    }  # fmt: skip
    again = text(client.get(f"/seller/streams/{stream_id}"))
    assert 'data-count="posted">1<' in again and 'data-count="inspection">1<' in again
    assert "1 active, 0 paused" in text(client.get("/dashboard"))


def test_the_form_shows_errors_beside_its_fields_and_needs_its_csrf_token(client, login, seller):
    login(seller)
    token = csrf_token(client, "/seller/streams")
    refused = client.post(
        "/seller/streams",
        data={"csrf_token": token, "vertical": "solar", "name": " ", "price": "1.234",
              "max_sales": "11"},
    )  # fmt: skip
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert "Name the stream" in field_html(page, "name")
    assert "Whole cents only" in field_html(page, "price")
    assert "From 1 (exclusive) to 10." in field_html(page, "max_sales")
    assert 'value="1.234"' in page
    unknown = client.post(
        "/seller/streams",
        data={"csrf_token": token, "vertical": "nope", "name": "x", "price": "1",
              "max_sales": "1"},
    )  # fmt: skip
    assert unknown.status_code == 422 and "Not a valid choice" in field_html(
        unknown.get_data(as_text=True), "vertical"
    )
    no_token = {"vertical": "solar", "name": "x", "price": "1", "max_sales": "1"}
    assert client.post("/seller/streams", data=no_token).status_code == 400
    stream_id = opened(seller)
    assert client.post(f"/seller/streams/{stream_id}/pause").status_code == 400
    assert count() == 1 and db.session.get(Stream, stream_id).status == "active"


def test_another_sellers_stream_is_404_and_buyers_are_refused(client, login, seller, buyer):
    theirs = opened(make_user("seller"), name="Not yours")
    mine = opened(seller, name="Mine")
    login(seller)
    token = csrf_token(client, "/seller/streams")
    assert "Not yours" not in text(client.get("/seller/streams"))
    for path in (f"/seller/streams/{theirs}", f"/seller/streams/{theirs}/status.json"):
        assert client.get(path).status_code == 404, path
    paused = client.post(f"/seller/streams/{theirs}/pause", data={"csrf_token": token})
    assert paused.status_code == 404
    assert db.session.get(Stream, theirs).status == "active"
    client.post("/logout", data={"csrf_token": token})
    login(buyer)
    for path in ("/seller/streams", f"/seller/streams/{mine}"):
        assert_forbidden(client.get(path, headers={"Accept": "application/json"}))


def test_the_seller_pauses_and_resumes_but_only_an_admin_resumes_the_plans_pause(
    app, client, login, seller, admin, small_plan
):
    stream_id = opened(seller)
    login(seller)
    token = csrf_token(client, "/seller/streams")
    base = f"/seller/streams/{stream_id}"
    assert client.post(f"{base}/pause", data={"csrf_token": token}).location == base
    page = text(client.get(base))
    assert "paused" in page and "Resume the stream" in page and "paused by the seller" in page
    client.post(f"{base}/resume", data={"csrf_token": token})
    assert db.session.get(Stream, stream_id).status == "active"

    # Screening with a defect every third lead: the plan pauses it at the seventh outcome.
    for lead in rows(7):
        client.post(f"/api/v1/streams/{stream_id}/leads", json=lead, headers=bearer(seller))
    outcomes = ["confirmed", "confirmed", "fake"] * 3
    for item, outcome in zip(pending_items(stream_id), outcomes, strict=False):
        verification.record_outcome(actor=admin, item_id=item.id, outcome=outcome)
    page = text(client.get(base))
    assert "Paused by the sampling plan." in page and "paused by the plan" in page
    assert "Resume" not in page
    assert "screened more than 6 leads without clearing" in page
    refused = client.post(f"{base}/resume", data={"csrf_token": token})
    assert refused.status_code == 302
    assert "only an admin resumes it" in text(client.get(refused.location))
    db.session.expire_all()
    assert db.session.get(Stream, stream_id).paused_by == "plan"
    notes = client.get("/api/v1/notifications", headers=bearer(seller)).get_json()["items"]
    assert notes[0]["link"] == base

    client.post("/logout", data={"csrf_token": token})
    login(admin)
    assert "Resume, screening afresh" in text(client.get(base))
    admin_token = csrf_token(client, base)
    assert client.post(f"{base}/resume", data={"csrf_token": admin_token}).status_code == 302
    db.session.expire_all()
    stream = db.session.get(Stream, stream_id)
    assert stream.status == "active" and stream.mode == "screening" and stream.screened == 0
    assert "resumed by an admin: screening again" in text(client.get(base))
