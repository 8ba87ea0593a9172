"""Bought leads to dispute, and the money figures a dispute moves."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.settings import get_settings
from billing import queries as billing_queries
from marketplace.models import Lead
from marketplace.purchases.models import PurchasedLead
from tests.billing.helpers import fund_wallet
from tests.marketplace.purchases.helpers import listed_leads

WALLET = 100_000


def bought_leads(client, auth, buyer, seller, admin, count: int = 1, **overrides) -> list[Lead]:
    """``count`` leads of ``seller`` bought by ``buyer`` over the API (wallet funded)."""
    leads = listed_leads(seller, admin, count, **overrides)
    fund_wallet(buyer.organization_id, WALLET)
    response = client.post(
        "/api/v1/purchases", json={"lead_ids": [lead.id for lead in leads]}, headers=auth(buyer)
    )
    assert response.status_code == 201, response.get_json()
    db.session.expire_all()
    return leads


def purchased(buyer, lead) -> PurchasedLead:
    db.session.expire_all()
    return db.session.scalar(
        select(PurchasedLead).where(
            PurchasedLead.lead_id == lead.id,
            PurchasedLead.buyer_org_id == buyer.organization_id,
        )
    )


def money(buyer, seller) -> dict:
    """The three balances a dispute's decision moves."""
    db.session.expire_all()
    return {
        "wallet": billing_queries.get_wallet_balance(buyer.organization_id),
        "pending": billing_queries.get_earnings(seller.organization_id)["pending_cents"],
        "revenue": billing_queries.get_platform_totals()["platform_revenue_cents"],
    }


def set_settings(**values) -> None:
    row = get_settings()
    for key, value in values.items():
        setattr(row, key, value)
    db.session.commit()


def dispute(client, auth, buyer, lead, reason="other", note="Nobody answers", **extra):
    return client.post(
        "/api/v1/disputes",
        json={"lead_id": lead.id, "reason": reason, "note": note, **extra},
        headers=auth(buyer),
    )


def resolve(client, auth, admin, dispute_id, decision="accept", note="Checked", **extra):
    return client.post(
        f"/api/v1/disputes/{dispute_id}/resolution",
        json={"decision": decision, "note": note, **extra},
        headers=auth(admin),
    )
