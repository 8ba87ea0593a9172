"""Listed leads for the purchase tests, through intake and a passed spot-check."""

from __future__ import annotations

from sqlalchemy import select

from app.db import utcnow
from app.extensions import db
from billing import ledger
from billing import queries as billing_queries
from billing.models import Sale
from marketplace import services as market_services
from marketplace.models import Batch, Lead
from marketplace.purchases.models import PurchasedLead
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


def assert_books_agree(buyer_users, funded: int = 100_000) -> None:
    """Every lead within max_sales and counted by its bought rows; each wallet paid exactly the
    prices of the leads its organisation holds, one sale per bought lead; the ledger is sound."""
    db.session.expire_all()
    rows = db.session.scalars(select(PurchasedLead)).all()
    for lead in db.session.scalars(select(Lead)):
        bought = [r for r in rows if r.lead_id == lead.id]
        assert lead.sales_count == len(bought) <= lead.max_sales
        assert len({r.buyer_org_id for r in bought}) == len(bought)
    for user in buyer_users:
        mine = [r for r in rows if r.buyer_org_id == user.organization_id]
        paid = funded - billing_queries.get_wallet_balance(user.organization_id)
        assert paid == sum(r.price_cents for r in mine)
    sales = db.session.scalars(select(Sale)).all()
    assert len(sales) == len(rows)
    assert {r.sale_id for r in rows} == {s.id for s in sales}
    assert ledger.check() == []
