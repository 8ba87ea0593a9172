"""The listings' use cases: search the market, show a lead to whoever may see it, and the
seller's (or an admin's) withdrawals and price changes.

Each write is one transaction, audited. Races are settled by conditional UPDATEs.
"""

from __future__ import annotations

import base64
import hashlib
import json

from sqlalchemy import update
from sqlalchemy.orm import joinedload

from app.api import paginate
from app.auth.models import User
from app.auth.services import record_audit
from app.db import transaction, utcnow
from app.errors import Conflict, Invalid, NotFound
from app.extensions import db
from marketplace.intake.services import check_terms
from marketplace.listings.queries import SORTS, is_on_sale, search_leads
from marketplace.models import Batch, Lead
from marketplace.purchases.queries import has_bought
from marketplace.verticals import get_vertical

# Batches whose price may change: their leads are stored and not yet withdrawn or rejected.
# (While processing, intake is still writing leads at the old price.)
REPRICEABLE_BATCH_STATUSES = ("held", "spot_check", "listed")


class BatchNotListed(Conflict):
    code = "batch_not_listed"
    message = "Only a listed batch can be withdrawn."


class LeadNotListed(Conflict):
    code = "lead_not_listed"
    message = "Only a listed lead can be withdrawn."


class BatchClosed(Conflict):
    code = "batch_closed"
    message = "The batch's price cannot change now."


# --- who sees what -------------------------------------------------------------------------------


def can_see_full(user: User, lead: Lead) -> bool:
    """Whether ``user`` may see the lead's full contact: its seller, admins, and a buyer whose
    organisation bought it."""
    if user.is_admin or lead.seller_id == user.organization_id:
        return True
    return has_bought(buyer_org_id=user.organization_id, lead_id=lead.id)


def get_lead_view(*, user: User, lead_id: int) -> tuple[Lead, bool]:
    """``(lead, full)``: the lead and whether to show it in full. A lead not on sale is
    NotFound to everyone but those who may see it in full."""
    lead = db.session.get(Lead, lead_id)
    if lead is None:
        raise NotFound("No such lead.")
    if can_see_full(user, lead):
        return lead, True
    if not is_on_sale(lead.id, utcnow()):
        raise NotFound("No such lead.")
    return lead, False


# --- the market ----------------------------------------------------------------------------------


def _fingerprint(filters: dict, sort: str) -> str:
    canonical = json.dumps({"filters": filters, "sort": sort}, sort_keys=True, default=str)
    digest = hashlib.sha256(canonical.encode()).digest()[:9]
    return base64.urlsafe_b64encode(digest).decode()


def search_market(*, filters: dict, sort: str = "newest", cursor=None, limit: int = 50) -> dict:
    """A page of leads on sale matching ``filters``: ``{"items", "next_cursor"}``.

    A cursor carries a fingerprint of its sort and filters, so reused with others it is a 422
    ``invalid_cursor`` rather than a page of something else.
    """
    if "vertical" in filters:
        get_vertical(filters["vertical"], active_only=False)  # an unknown one is a 422
    tag = _fingerprint(filters, sort)
    inner = None
    if cursor:
        given, _, inner = cursor.partition(".")
        if given != tag or not inner:
            raise Invalid(
                "The cursor belongs to another sort or other filters.", code="invalid_cursor"
            )
    page = paginate(
        db.session,
        # The preview shows each lead's vertical and seller score: joined to the page's query
        # (many-to-one, at most one row each), not two more round trips a page.
        search_leads(filters, now=utcnow()).options(
            joinedload(Lead.vertical), joinedload(Lead.seller_account)
        ),
        order=SORTS[sort],
        cursor=inner,
        limit=limit,
    )
    if page["next_cursor"]:
        page["next_cursor"] = f"{tag}.{page['next_cursor']}"
    return page


# --- sellers and admins --------------------------------------------------------------------------


def _batch_for(user: User, batch_id: int, *, admin_too: bool) -> Batch:
    batch = db.session.get(Batch, batch_id)
    if batch is None or not (
        (admin_too and user.is_admin) or batch.seller_id == user.organization_id
    ):
        raise NotFound("No such batch.")
    return batch


def withdraw_batch(*, actor: User, batch_id: int) -> Batch:
    """Take a listed batch off sale for good; leads already sold stay with their buyers."""
    with transaction():
        batch = _batch_for(actor, batch_id, admin_too=True)
        result = db.session.execute(
            update(Batch)
            .where(Batch.id == batch.id, Batch.status == "listed")
            .values(status="withdrawn")
        )
        if result.rowcount != 1:
            raise BatchNotListed(details={"status": batch.status})
        leads = db.session.execute(
            update(Lead)
            .where(Lead.batch_id == batch.id, Lead.status == "listed")
            .values(status="withdrawn")
        ).rowcount
        record_audit(actor=actor, action="batch.withdrawn", obj=batch, details={"leads": leads})
    db.session.refresh(batch)
    return batch


def withdraw_lead(*, actor: User | None, lead_id: int) -> Lead:
    """Take one listed lead off sale for good. ``actor`` None: an upheld dispute, which audits
    its own decision."""
    with transaction():
        lead = db.session.get(Lead, lead_id)
        if lead is None:
            raise NotFound("No such lead.")
        if actor is not None and not (actor.is_admin or lead.seller_id == actor.organization_id):
            raise NotFound("No such lead.")
        result = db.session.execute(
            update(Lead)
            .where(Lead.id == lead.id, Lead.status == "listed")
            .values(status="withdrawn")
        )
        if result.rowcount != 1:
            raise LeadNotListed(details={"status": lead.status})
        if actor is not None:
            record_audit(actor=actor, action="lead.withdrawn", obj=lead)
    db.session.refresh(lead)
    return lead


def change_batch_price(*, actor: User, batch_id: int, price_cents: int) -> Batch:
    """A new price for the batch's leads still for sale (the upload's bounds); sales made keep
    theirs."""
    with transaction():
        batch = _batch_for(actor, batch_id, admin_too=False)
        check_terms(price_cents=price_cents, max_sales=batch.max_sales)
        before = batch.price_cents
        result = db.session.execute(
            update(Batch)
            .where(Batch.id == batch.id, Batch.status.in_(REPRICEABLE_BATCH_STATUSES))
            .values(price_cents=price_cents)
        )
        if result.rowcount != 1:
            raise BatchClosed(details={"status": batch.status})
        leads = db.session.execute(
            update(Lead)
            .where(
                Lead.batch_id == batch.id,
                Lead.status.in_(("pending", "listed")),
                Lead.sales_count < Lead.max_sales,
            )
            .values(price_cents=price_cents)
        ).rowcount
        record_audit(
            actor=actor,
            action="batch.repriced",
            obj=batch,
            details={"from": before, "to": price_cents, "leads": leads},
        )
    db.session.refresh(batch)
    return batch
