"""Listed leads for the purchase tests, through intake and a passed spot-check."""

from __future__ import annotations

from sqlalchemy import select

from app.db import utcnow
from app.extensions import db
from marketplace import services as market_services
from marketplace.models import Batch, Lead
from tests.verification.flow import pass_batch, rows


def listed_leads(
    seller,
    admin,
    count: int,
    *,
    price_cents: int = 1500,
    max_sales: int = 1,
    vertical: str = "solar",
    **row_overrides,
) -> list[Lead]:
    """``count`` leads of one batch of ``seller``, listed (the sample confirmed by ``admin``)."""
    batch = market_services.create_json_batch(
        user=seller,
        leads=rows(count, **row_overrides),
        vertical=vertical,
        price_cents=price_cents,
        max_sales=max_sales,
    )
    db.session.expire_all()
    if db.session.get(Batch, batch.id).status == "spot_check":
        pass_batch(admin, batch.id)
    db.session.expire_all()
    leads = list(
        db.session.scalars(select(Lead).where(Lead.batch_id == batch.id).order_by(Lead.id))
    )
    assert leads and all(lead.status == "listed" for lead in leads), [
        lead.status for lead in leads
    ]
    assert all(lead.listed_at is not None and lead.listed_at <= utcnow() for lead in leads)
    return leads
