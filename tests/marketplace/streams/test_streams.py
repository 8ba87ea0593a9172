"""Real-time streams: ping/post, CSP-1 inspection of live leads, holds and races (issue 13)."""

from __future__ import annotations

from sqlalchemy import func, select

from app.extensions import db
from marketplace.autobuy.models import OrderHold
from marketplace.models import Lead
from marketplace.purchases.models import PurchasedLead
from marketplace.streams.models import Stream, StreamEvent, StreamPing
from tests.billing.helpers import fund_wallet
from tests.helpers import make_user, race
from tests.marketplace.streams.helpers import (
    CONTACT,
    clear_screening,
    open_stream,
    pending_items,
    ping,
    post,
    seed_where_next,
    standing_order,
)
from tests.verification.flow import rows
from verification import services as verification
from verification.rules import csp


def test_a_seller_opens_lists_and_pauses_its_own_streams(client, auth, seller):
    body = open_stream(client, auth, seller, max_sales=2)
    assert body["status"] == "active" and body["paused_by"] is None
    assert body["inspection"] == {
        "mode": "screening",
        "clearance_number": 54,
        "sampling_fraction": 0.1,
        "conforming_run": 0,
    }
    assert body["counts"] == dict.fromkeys(
        ("posted", "rejected", "duplicates", "inspection", "listed", "sold"), 0
    )
    path = f"/api/v1/streams/{body['id']}"
    listed = client.get("/api/v1/streams", headers=auth(seller)).get_json()["items"]
    assert [s["id"] for s in listed] == [body["id"]]
    changed = client.patch(
        path, json={"price_cents": 1200, "status": "paused"}, headers=auth(seller)
    )
    assert changed.get_json()["price_cents"] == 1200
    assert changed.get_json()["paused_by"] == "seller"
    other = make_user("seller")
    assert client.get(path, headers=auth(other)).status_code == 404
    assert client.patch(path, json={"status": "active"}, headers=auth(other)).status_code == 404
    assert client.get("/api/v1/streams", headers=auth(other)).get_json()["items"] == []
    paused = post(client, auth, seller, body["id"], rows(1)[0])
    assert paused.status_code == 409, paused.get_json()
    assert paused.get_json()["error"]["code"] == "stream_paused"


def test_a_ping_with_a_contact_field_is_422_and_stores_nothing(client, auth, seller):
    stream = open_stream(client, auth, seller)
    lead = rows(1)[0]
    for field in ("email", "phone", "first_name", "address"):
        values = {k: v for k, v in lead.items() if k not in CONTACT} | {field: "x"}
        response = client.post(
            f"/api/v1/streams/{stream['id']}/pings", json=values, headers=auth(seller)
        )
        assert response.status_code == 422
        assert response.get_json()["error"]["code"] == "contact_in_ping"
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(StreamPing)) == 0
    assert db.session.scalar(select(func.count()).select_from(Lead)) == 0


def test_a_stream_screens_then_samples_about_f_and_a_defect_screens_again(
    app, client, auth, seller, buyer, admin, small_plan
):
    fund_wallet(buyer.organization_id, 100_000)
    standing_order(client, auth, buyer)
    app.config["STREAM_DRAW_SEED"] = "counted"
    stream_id = open_stream(client, auth, seller)["id"]
    # Screening: the first i leads all wait, none sold.
    first = [post(client, auth, seller, stream_id, lead) for lead in rows(3)]
    assert [r.status_code for r in first] == [201] * 3
    assert [r.get_json()["status"] for r in first] == ["inspection"] * 3
    assert db.session.scalar(select(func.count()).select_from(PurchasedLead)) == 0
    # Live items come first in the queue, with how long they have waited.
    queue = client.get("/api/v1/spot-checks?status=pending", headers=auth(admin)).get_json()
    assert [item["is_live"] for item in queue["items"]] == [True] * 3
    assert all(item["waiting_seconds"] >= 0 for item in queue["items"])
    for item in pending_items(stream_id):
        verification.record_outcome(actor=admin, item_id=item.id, outcome="confirmed")
    db.session.expire_all()
    # A conforming inspected lead is listed and matched at once.
    assert db.session.scalar(select(func.count()).select_from(PurchasedLead)) == 3
    assert db.session.get(Stream, stream_id).mode == "sampling"

    # Sampling: the seeded draw decides which of the next 40 wait.
    answers = [post(client, auth, seller, stream_id, lead).get_json() for lead in rows(40)]
    expected = [
        csp.is_drawn(seed="counted", stream_id=stream_id, sequence=n, f=0.5) for n in range(4, 44)
    ]
    assert [a["status"] == "inspection" for a in answers] == expected
    assert 10 <= sum(expected) <= 30
    assert all(
        a["status"] == "sold" and a["sales"] == 1 for a in answers if a["status"] != "inspection"
    )

    # One defect returns the stream to screening.
    item = pending_items(stream_id)[0]
    verification.record_outcome(actor=admin, item_id=item.id, outcome="fake")
    db.session.expire_all()
    stream = db.session.get(Stream, stream_id)
    assert stream.mode == "screening"
    assert db.session.get(Lead, item.lead_id).status == "defective"
    assert post(client, auth, seller, stream_id, rows(1)[0]).get_json()["status"] == "inspection"
    states = list(
        db.session.scalars(
            select(StreamEvent.state)
            .where(StreamEvent.stream_id == stream_id)
            .order_by(StreamEvent.id)
        )
    )
    assert states == ["screening", "sampling", "screening"]


def test_a_ping_holds_the_order_and_the_post_is_sold_to_it(
    app, client, auth, seller, buyer, admin, small_plan
):
    fund_wallet(buyer.organization_id, 100_000)
    order = standing_order(client, auth, buyer, daily_cap=4)
    stream_id = open_stream(client, auth, seller)["id"]
    clear_screening(client, auth, seller, admin, stream_id, 3)  # the order bought these
    lead = rows(1)[0]
    answer = ping(client, auth, seller, stream_id, lead)
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert body["would_sell"] is True and body["price_cents"] == 1000
    # The hold counts against the daily cap: a second ping finds no room.
    assert ping(client, auth, seller, stream_id, rows(1)[0]).get_json()["would_sell"] is False
    db.session.expire_all()
    assert (
        db.session.scalar(select(func.count()).select_from(Lead).where(Lead.row_number == 0)) == 0
    )
    seed_where_next(app, stream_id, 4, 0.5, drawn=False)
    sold = post(client, auth, seller, stream_id, lead, ping_id=body["ping_id"])
    assert sold.status_code == 201 and sold.get_json()["status"] == "sold"
    db.session.expire_all()
    buyer_of = db.session.scalar(
        select(PurchasedLead.buyer_org_id).where(
            PurchasedLead.lead_id == sold.get_json()["lead_id"]
        )
    )
    assert buyer_of == buyer.organization_id
    hold = db.session.get(OrderHold, db.session.get(StreamPing, body["ping_id"]).hold_id)
    assert hold.saved_search_id == order["id"] and hold.ended_at is not None


def test_a_drawn_post_answers_inspection_and_releases_the_hold(
    app, client, auth, seller, buyer, admin, small_plan
):
    fund_wallet(buyer.organization_id, 100_000)
    standing_order(client, auth, buyer)
    stream_id = open_stream(client, auth, seller)["id"]
    clear_screening(client, auth, seller, admin, stream_id, 3)
    lead = rows(1)[0]
    body = ping(client, auth, seller, stream_id, lead).get_json()
    assert body["would_sell"] is True
    seed_where_next(app, stream_id, 4, 0.5, drawn=True)
    answer = post(client, auth, seller, stream_id, lead, ping_id=body["ping_id"])
    assert answer.get_json()["status"] == "inspection"
    db.session.expire_all()
    hold_id = db.session.get(StreamPing, body["ping_id"]).hold_id
    assert db.session.get(OrderHold, hold_id).ended_at is not None


def test_unknown_ping_rejected_and_duplicate_posts(client, auth, seller, small_plan):
    stream_id = open_stream(client, auth, seller)["id"]
    lead = rows(1)[0]
    bad = post(client, auth, seller, stream_id, lead, ping_id="nope")
    assert bad.status_code == 422 and bad.get_json()["error"]["code"] == "invalid_ping"
    rejected = post(client, auth, seller, stream_id, lead | {"email": "not-an-email"})
    assert rejected.status_code == 422
    error = rejected.get_json()["error"]
    assert error["code"] == "lead_rejected"
    assert {r["field"] for r in error["details"]["rejections"]} >= {"email"}
    assert post(client, auth, seller, stream_id, lead).status_code == 201
    again = post(client, auth, seller, stream_id, lead | {"email": "other@gmail.com"})
    assert again.status_code == 409
    assert again.get_json()["error"]["code"] == "duplicate"
    assert again.get_json()["error"]["details"] == {"matched": "phone"}
    counts = client.get(f"/api/v1/streams/{stream_id}", headers=auth(seller)).get_json()["counts"]
    assert counts | {} == {
        "posted": 3, "rejected": 1, "duplicates": 1, "inspection": 1, "listed": 0, "sold": 0
    }  # fmt: skip


def test_a_seller_on_hold_is_409(client, auth, seller, admin):
    stream_id = open_stream(client, auth, seller)["id"]
    verification.hold_seller(actor=admin, seller_id=seller.organization_id, note="checking")
    answer = post(client, auth, seller, stream_id, rows(1)[0])
    assert answer.status_code == 409 and answer.get_json()["error"]["code"] == "seller_on_hold"


def test_two_concurrent_posts_of_one_person_to_two_streams_accept_one(app, client, auth, seller):
    other = make_user("seller")
    first = open_stream(client, auth, seller)["id"]
    second = open_stream(client, auth, other)["id"]
    lead = rows(1)[0]
    headers = [auth(seller), auth(other)]

    def job(stream_id, header):
        def run():
            with app.test_client() as c:
                r = c.post(f"/api/v1/streams/{stream_id}/leads", json=lead, headers=header)
                return r.status_code, r.get_json().get("error", {}).get("code")

        return run

    outcomes = race(app, [job(first, headers[0]), job(second, headers[1])])
    assert sorted(outcomes) == [(201, None), (409, "duplicate")], outcomes
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Lead)) == 1


def test_stream_settings_have_the_specs_bounds(client, auth, admin):
    for bad in (
        {"stream_aoql_pct": 0},
        {"stream_aoql_pct": 10.5},
        {"stream_sampling_fraction": 0},
        {"stream_sampling_fraction": 1.5},
    ):
        response = client.put("/api/v1/admin/settings", json=bad, headers=auth(admin))
        assert response.status_code == 422, bad
    body = client.get("/api/v1/admin/settings", headers=auth(admin)).get_json()
    assert body["stream_aoql_pct"] == 2.0 and body["stream_sampling_fraction"] == 0.1
    assert body["stream_screening_limit"] is None


def test_a_ping_holds_only_for_a_matching_post_once_and_one_hold_per_stream(
    app, client, auth, seller, buyer, admin, small_plan
):
    """A ping's promise is for a lead like the ping: a post of another lead under its id is
    matched afresh; a used ping holds nothing; a stream holds at most one order at a time."""
    fund_wallet(buyer.organization_id, 100_000)
    body = {
        "name": "SF only",
        "filter": {"vertical": "solar", "city": "San Francisco"},
        "auto_buy": {"max_price_cents": 5000, "daily_cap": 10, "budget_cents": 100_000},
    }
    made = client.post("/api/v1/saved-searches", json=body, headers=auth(buyer))
    assert made.status_code == 201, made.get_json()
    stream_id = open_stream(client, auth, seller)["id"]
    clear_screening(client, auth, seller, admin, stream_id, 3)
    sf = rows(1, city="San Francisco")[0]
    pinged = ping(client, auth, seller, stream_id, sf).get_json()
    assert pinged["would_sell"] is True
    # The same ping id on a lead elsewhere: not sold to the San Francisco order.
    fresno = rows(1, city="Fresno", postal_code="93701")[0]
    seed_where_next(app, stream_id, 4, 0.5, drawn=False)
    other = post(client, auth, seller, stream_id, fresno, ping_id=pinged["ping_id"])
    assert other.status_code == 201 and other.get_json()["status"] == "listed", other.get_json()
    # Its hold is used up: the ping cannot sell a second lead either.
    seed_where_next(app, stream_id, 5, 0.5, drawn=False)
    again = post(client, auth, seller, stream_id, rows(1, city="Fresno", postal_code="93701")[0],
                 ping_id=pinged["ping_id"])  # fmt: skip
    assert again.get_json()["status"] == "listed"
    # Two pings that would sell: the second gives up the first's hold.
    first = ping(client, auth, seller, stream_id, rows(1, city="San Francisco")[0]).get_json()
    second = ping(client, auth, seller, stream_id, rows(1, city="San Francisco")[0]).get_json()
    assert first["would_sell"] and second["would_sell"]
    db.session.expire_all()
    held = [
        db.session.get(OrderHold, db.session.get(StreamPing, p["ping_id"]).hold_id)
        for p in (first, second)
    ]
    assert held[0].ended_at is not None and held[1].ended_at is None


def test_contact_fields_spelled_otherwise_are_still_refused_in_a_ping(client, auth, seller):
    stream = open_stream(client, auth, seller)
    lead = {k: v for k, v in rows(1)[0].items() if k not in CONTACT}
    carried = [
        ("Phone", "+1 415 555 0100"), ("PHONE", "+1 415 555 0100"), ("phone ", "4155550100"),
        ("Email", "ann@example.com"), ("First Name", "Ann"), ("Street Address", "1 Main St"),
        ("mobile_number", "x"), ("notes", "call ann@example.com"), ("notes", "ring 415 555 0100"),
    ]  # fmt: skip
    for key, value in carried:
        response = client.post(
            f"/api/v1/streams/{stream['id']}/pings", json=lead | {key: value}, headers=auth(seller)
        )
        assert response.status_code == 422, (key, value)
        assert response.get_json()["error"]["code"] == "contact_in_ping"
    # Ordinary extra fields and the lead's own columns still pass.
    fine = lead | {"notes": "wants a quote in spring", "roof_age": "12"}
    response = client.post(
        f"/api/v1/streams/{stream['id']}/pings", json=fine, headers=auth(seller)
    )
    assert response.status_code == 200, response.get_json()


def test_a_stream_screening_past_the_limit_is_paused_and_only_an_admin_resumes_it(
    client, auth, seller, admin, small_plan
):
    """i = 3, so the limit is 6: outcomes that never make three conforming in a row pause the
    stream at the seventh, even one its seller had paused; the seller is told, cannot resume
    it, and the plan stands still until an admin resumes it, screening afresh."""
    stream_id = open_stream(client, auth, seller)["id"]
    path = f"/api/v1/streams/{stream_id}"
    for lead in rows(8):
        assert post(client, auth, seller, stream_id, lead).get_json()["status"] == "inspection"
    paused = client.patch(path, json={"status": "paused"}, headers=auth(seller)).get_json()
    assert paused["paused_by"] == "seller"
    items = pending_items(stream_id)
    outcomes = ["confirmed", "confirmed", "fake"] * 2 + ["confirmed"]
    for item, outcome in zip(items, outcomes, strict=False):
        recorded = client.post(
            f"/api/v1/spot-checks/{item.id}", json={"outcome": outcome}, headers=auth(admin)
        )
        assert recorded.status_code == 200, recorded.get_json()
        body = client.get(path, headers=auth(seller)).get_json()
        if item is not items[6]:
            assert body["paused_by"] == "seller", item
    assert body["status"] == "paused" and body["paused_by"] == "plan"
    assert body["inspection"]["mode"] == "screening"
    assert body["inspection"]["conforming_run"] == 1
    notes = client.get("/api/v1/notifications", headers=auth(seller)).get_json()["items"]
    assert [n["kind"] for n in notes] == ["stream.paused"]
    assert "Solar form" in notes[0]["message"]

    # Paused by the plan: no posts or pings, and the last waiting outcome does not move it.
    refused = post(client, auth, seller, stream_id, rows(1)[0])
    assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "stream_paused"
    pinged = ping(client, auth, seller, stream_id, rows(1)[0])
    assert pinged.status_code == 409 and pinged.get_json()["error"]["code"] == "stream_paused"
    client.post(
        f"/api/v1/spot-checks/{items[7].id}", json={"outcome": "confirmed"}, headers=auth(admin)
    )
    body = client.get(path, headers=auth(seller)).get_json()
    assert body["inspection"]["conforming_run"] == 1 and body["paused_by"] == "plan"
    assert body["counts"]["listed"] == 6  # every conforming lead is listed, paused or not

    # The seller can neither resume it nor turn it into its own pause.
    resume = client.patch(path, json={"status": "active"}, headers=auth(seller))
    assert resume.status_code == 409
    assert resume.get_json()["error"]["code"] == "paused_by_plan"
    client.patch(path, json={"status": "paused"}, headers=auth(seller))
    assert client.get(path, headers=auth(seller)).get_json()["paused_by"] == "plan"

    resumed = client.patch(path, json={"status": "active"}, headers=auth(admin))
    assert resumed.status_code == 200, resumed.get_json()
    body = resumed.get_json()
    assert body["status"] == "active" and body["paused_by"] is None
    assert body["inspection"]["mode"] == "screening" and body["inspection"]["conforming_run"] == 0
    assert post(client, auth, seller, stream_id, rows(1)[0]).get_json()["status"] == "inspection"

    history = [
        (event.state, event.actor_id, event.lead_id)
        for event in db.session.scalars(
            select(StreamEvent).where(StreamEvent.stream_id == stream_id).order_by(StreamEvent.id)
        )
    ]
    assert history == [
        ("screening", None, None),
        ("paused", seller.id, None),
        ("paused", admin.id, items[6].lead_id),
        ("screening", admin.id, None),
    ]
