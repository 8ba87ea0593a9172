"""Streams through the API for the stream tests: open, ping, post, standing orders, the plan."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from marketplace.streams.models import Stream
from tests.verification.flow import rows
from verification import services as verification
from verification.models import SpotCheckItem
from verification.rules import csp

CONTACT = ("first_name", "last_name", "email", "phone", "address")


def open_stream(client, auth, seller, **body) -> dict:
    body = {"vertical": "solar", "name": "Solar form", "price_cents": 1000} | body
    response = client.post("/api/v1/streams", json=body, headers=auth(seller))
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def post(client, auth, seller, stream_id, lead, **extra):
    return client.post(
        f"/api/v1/streams/{stream_id}/leads", json=lead | extra, headers=auth(seller)
    )


def ping(client, auth, seller, stream_id, lead):
    values = {k: v for k, v in lead.items() if k not in CONTACT}
    return client.post(f"/api/v1/streams/{stream_id}/pings", json=values, headers=auth(seller))


def standing_order(client, auth, buyer, **caps):
    body = {
        "name": "live solar",
        "filter": {"vertical": "solar"},
        "auto_buy": {"max_price_cents": 5000, "daily_cap": 100, "budget_cents": 100_000} | caps,
    }
    response = client.post("/api/v1/saved-searches", json=body, headers=auth(buyer))
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def pending_items(stream_id) -> list[SpotCheckItem]:
    db.session.expire_all()
    batch_id = db.session.get(Stream, stream_id).batch_id
    return list(
        db.session.scalars(
            select(SpotCheckItem)
            .where(SpotCheckItem.batch_id == batch_id, SpotCheckItem.status == "pending")
            .order_by(SpotCheckItem.id)
        )
    )


def clear_screening(client, auth, seller, admin, stream_id, clearance):
    for lead in rows(clearance):
        assert post(client, auth, seller, stream_id, lead).get_json()["status"] == "inspection"
    for item in pending_items(stream_id):
        verification.record_outcome(actor=admin, item_id=item.id, outcome="confirmed")
    db.session.expire_all()
    assert db.session.get(Stream, stream_id).mode == "sampling"


def seed_where_next(
    app, stream_id: int, sequence: int, f: float, *, drawn: bool, count: int = 1
) -> None:
    """Seed the plan's draw so the leads numbered ``sequence`` to ``sequence + count - 1`` are
    all drawn for inspection (or all not drawn) in sampling mode."""
    for n in range(100_000):
        if all(
            csp.is_drawn(seed=f"s{n}", stream_id=stream_id, sequence=number, f=f) == drawn
            for number in range(sequence, sequence + count)
        ):
            app.config["STREAM_DRAW_SEED"] = f"s{n}"
            return
    raise AssertionError("no seed found")
