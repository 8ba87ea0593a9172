"""Reads of purchases: a buyer's purchases and bought leads, and the rows of an export."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.api import paginate
from app.extensions import db
from marketplace.purchases.errors import PurchaseNotFound
from marketplace.purchases.models import Purchase, PurchasedLead


def list_purchases(*, buyer_org_id: int):
    """The buyer organisation's purchases; page them newest first."""
    return select(Purchase).where(Purchase.buyer_org_id == buyer_org_id)


def get_purchase_for(*, buyer_org_id: int, purchase_id: int) -> Purchase:
    """The purchase if it is this organisation's; another's is 404, as one that does not exist."""
    purchase = db.session.get(Purchase, purchase_id)
    if purchase is None or purchase.buyer_org_id != buyer_org_id:
        raise PurchaseNotFound()
    return purchase


def list_purchased_leads(
    *, buyer_org_id: int, outcome: str | None = None, purchase_id: int | None = None
):
    """The leads the organisation bought; page them newest first."""
    stmt = (
        select(PurchasedLead)
        .where(PurchasedLead.buyer_org_id == buyer_org_id)
        .options(selectinload(PurchasedLead.lead))
    )
    if outcome is not None:
        stmt = stmt.where(PurchasedLead.outcome == outcome)
    if purchase_id is not None:
        stmt = stmt.where(PurchasedLead.purchase_id == purchase_id)
    return stmt


PURCHASED_LEADS_ORDER = [(PurchasedLead.purchased_at, True), (PurchasedLead.id, True)]

EXPORT_HEADER = [
    "lead_id",
    "purchased_at",
    "price_cents",
    "currency",
    "return_deadline",
    "first_name",
    "last_name",
    "email",
    "phone",
    "company",
    "job_title",
    "address",
    "city",
    "region",
    "postal_code",
    "country",
    "stage",
    "score",
    "temperature",
    "consent_text",
    "consented_at",
    "consent_ip",
    "consent_url",
    "consent_certificate",
    "outcome",
]


def iter_export_rows(*, purchase: Purchase):
    """One row per lead of the purchase, full contact (csv_response makes each cell
    formula-safe)."""
    return iter_item_rows(purchase.items)


def iter_purchased_lead_rows(
    *, buyer_org_id: int, outcome: str | None = None, purchase_id: int | None = None, page=500
):
    """The export of the buyer's bought leads as its list shows them: filtered, newest first.

    Read in keyset pages as the download streams: no server-side cursor is left open by a
    client that drops the download, and each page is read in the session of the moment.
    """
    stmt = list_purchased_leads(
        buyer_org_id=buyer_org_id, outcome=outcome, purchase_id=purchase_id
    )
    cursor = None
    while True:
        found = paginate(db.session, stmt, order=PURCHASED_LEADS_ORDER, cursor=cursor, limit=page)
        yield from iter_item_rows(found["items"])
        cursor = found["next_cursor"]
        if cursor is None:
            return


def iter_item_rows(items):
    """One export row per bought lead (``PurchasedLead``), in ``EXPORT_HEADER``'s order."""
    for item in items:
        lead = item.lead
        yield [
            lead.id,
            item.purchased_at.isoformat(),
            item.price_cents,
            item.currency,
            item.return_deadline.isoformat(),
            lead.first_name,
            lead.last_name,
            lead.email,
            lead.phone,
            lead.company,
            lead.job_title,
            lead.address,
            lead.city,
            lead.region,
            lead.postal_code,
            lead.country,
            lead.stage,
            lead.score,
            lead.temperature,
            lead.consent_text,
            lead.consented_at.isoformat(),
            lead.consent_ip,
            lead.consent_url,
            lead.consent_certificate,
            item.outcome,
        ]


def has_bought(*, buyer_org_id: int, lead_id: int) -> bool:
    """Whether the organisation bought the lead (and so may see its full contact)."""
    return (
        db.session.scalar(
            select(PurchasedLead.id).where(
                PurchasedLead.buyer_org_id == buyer_org_id, PurchasedLead.lead_id == lead_id
            )
        )
        is not None
    )


def count_outcomes(*, buyer_org_id: int) -> dict[str | None, int]:
    """How many of the organisation's bought leads have each outcome (None: none recorded)."""
    rows = db.session.execute(
        select(PurchasedLead.outcome, func.count())
        .where(PurchasedLead.buyer_org_id == buyer_org_id)
        .group_by(PurchasedLead.outcome)
    )
    return {outcome: count for outcome, count in rows}
