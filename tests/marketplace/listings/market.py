"""Helpers for the listings tests: leads put on sale through intake and the standing services."""

from __future__ import annotations

from sqlalchemy import select

from app.db import transaction
from app.extensions import db
from marketplace import services as market_services
from marketplace.models import Batch, Lead
from tests.verification.flow import rows


def list_leads(
    seller,
    *row_overrides: dict,
    vertical: str = "solar",
    price_cents: int = 1500,
    max_sales: int = 1,
) -> list[Lead]:
    """One batch with a lead per ``row_overrides`` (over a fresh good row), listed at once.

    Intake checks and derives every lead, and ``list_batch`` puts them on sale as the
    spot-check's acceptance does.
    """
    leads = [
        {**row, **overrides}
        for row, overrides in zip(rows(len(row_overrides)), row_overrides, strict=True)
    ]
    batch = market_services.create_json_batch(
        user=seller,
        leads=leads,
        vertical=vertical,
        price_cents=price_cents,
        max_sales=max_sales,
    )
    db.session.expire_all()
    assert db.session.get(Batch, batch.id).status == "spot_check"
    with transaction():
        market_services.list_batch(batch_id=batch.id)
    db.session.expire_all()
    listed = list(
        db.session.scalars(select(Lead).where(Lead.batch_id == batch.id).order_by(Lead.row_number))
    )
    assert len(listed) == len(row_overrides), "a row was rejected"
    return listed


def get(client, headers, path: str, **params):
    response = client.get(path, headers=headers, query_string=params)
    return response.status_code, response.get_json()


def ids(body) -> list[int]:
    return [item["id"] for item in body["items"]]


def contact_values(lead) -> list[str]:
    """What a buyer must never read of a lead it has not bought: names, email (and its local
    part), phone (also its last seven digits, spaced or not), street address, consent record."""
    digits = lead.phone[-7:]
    return [
        lead.email,
        lead.email.split("@")[0],
        lead.phone,
        lead.first_name,
        lead.last_name,
        lead.address,
        lead.consent_ip,
        lead.consent_text,
        lead.consent_url,
        f"{digits[:3]} {digits[3:]}",
        digits,
    ]
