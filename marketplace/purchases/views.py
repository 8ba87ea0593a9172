"""Web pages of purchases: the buyer's bought leads (outcomes, export) and its purchases."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from marshmallow import ValidationError

from app.auth.decorators import buyer_only
from app.csvutil import csv_response
from app.db import utcnow
from app.errors import Invalid
from app.web.forms import form_post
from app.web.paging import page_of, query_args
from app.web.registry import register_card, register_nav
from marketplace.blueprints import web_bp as bp
from marketplace.delivery import services as delivery
from marketplace.purchases import queries, services
from marketplace.purchases.forms import OutcomeForm
from marketplace.purchases.models import OUTCOMES, Purchase
from marketplace.purchases.schemas import PurchasedLeadArgs

PAGE_SIZE = 25


def _filters() -> tuple[dict, dict]:
    """The list's filters from the query string (blank means any) and their errors."""
    raw = {key: value for key, value in request.args.items() if value.strip()}
    try:
        return PurchasedLeadArgs().load({"limit": PAGE_SIZE, **raw}), {}
    except ValidationError as error:
        return {}, error.messages


def _kept_args() -> dict:
    return query_args(drop=("cursor",))


# --- the buyer's bought leads --------------------------------------------------------------------


def _leads_page(*, outcome_form: OutcomeForm | None = None, form_lead_id: int | None = None):
    """The list; a refused outcome form is drawn again on its row, as it was posted."""
    args, errors = _filters()
    kept = _kept_args()
    page = {"items": [], "next_url": None, "first_url": None}
    if not errors:
        page = page_of(
            queries.list_purchased_leads(
                buyer_org_id=current_user.organization_id,
                outcome=args["outcome"],
                purchase_id=args["purchase_id"],
            ),
            order=queries.PURCHASED_LEADS_ORDER,
            endpoint=".buyer_leads",
            cursor=args["cursor"],
            limit=args["limit"],
            args=kept,
        )
    forms = {
        item.lead_id: OutcomeForm(
            formdata=None, data={"outcome": item.outcome or "", "reason": item.outcome_reason}
        )
        for item in page["items"]
    }
    if outcome_form is not None:
        forms[form_lead_id] = outcome_form
    refused = bool(errors) or outcome_form is not None
    return render_template(
        "marketplace/purchases/leads.html",
        items=page["items"],
        forms=forms,
        errors=errors,
        outcomes=OUTCOMES,
        now=utcnow(),
        kept=kept,
        next_url=page["next_url"],
        first_url=page["first_url"],
        export_url=url_for(".buyer_leads_csv", **{k: v for k, v in kept.items() if k != "limit"}),
    ), 422 if refused else 200


@bp.get("/buyer/leads")
@buyer_only
def buyer_leads():
    return _leads_page()


@bp.post("/buyer/leads/<int:lead_id>/outcome")
@buyer_only
@form_post(
    OutcomeForm,
    page=lambda form, lead_id: _leads_page(outcome_form=form, form_lead_id=lead_id),
)
def record_outcome(form, lead_id):
    if not form.validate_on_submit():
        return _leads_page(outcome_form=form, form_lead_id=lead_id)
    services.record_outcome(
        buyer=current_user, lead_id=lead_id, outcome=form.outcome.data, reason=form.reason.data
    )
    flash(f"Lead #{lead_id} marked {form.outcome.data}.", "success")
    return redirect(url_for(".buyer_leads", **query_args()))


@bp.get("/buyer/leads/export.csv")
@buyer_only
def buyer_leads_csv():
    """The bought leads the list shows (same filters), every page of them."""
    args, errors = _filters()
    if errors:
        raise Invalid("Some filters are not valid.", details=errors)
    rows = queries.iter_purchased_lead_rows(
        buyer_org_id=current_user.organization_id,
        outcome=args["outcome"],
        purchase_id=args["purchase_id"],
    )
    return csv_response(queries.EXPORT_HEADER, rows, "leadex-leads.csv")


# --- the buyer's purchases -----------------------------------------------------------------------


@bp.get("/buyer/purchases")
@buyer_only
def buyer_purchases():
    page = page_of(
        queries.list_purchases(buyer_org_id=current_user.organization_id),
        order=[(Purchase.id, True)],
        endpoint=".buyer_purchases",
        limit=PAGE_SIZE,
    )
    return render_template(
        "marketplace/purchases/purchases.html",
        purchases=page["items"],
        next_url=page["next_url"],
        first_url=page["first_url"],
    )


@bp.get("/buyer/purchases/<int:purchase_id>")
@buyer_only
def buyer_purchase(purchase_id):
    purchase = queries.get_purchase_for(
        buyer_org_id=current_user.organization_id, purchase_id=purchase_id
    )
    return render_template(
        "marketplace/purchases/purchase.html",
        purchase=purchase,
        attempts=delivery.latest_attempts(buyer=current_user, purchase_id=purchase.id),
        delivery_url=delivery.get_endpoint(buyer=current_user)["url"],
        now=utcnow(),
    )


@bp.get("/buyer/purchases/<int:purchase_id>/export.csv")
@buyer_only
def buyer_purchase_csv(purchase_id):
    purchase = queries.get_purchase_for(
        buyer_org_id=current_user.organization_id, purchase_id=purchase_id
    )
    return csv_response(
        queries.EXPORT_HEADER,
        list(queries.iter_export_rows(purchase=purchase)),
        f"purchase-{purchase.id}.csv",
    )


# --- navigation and dashboard --------------------------------------------------------------------


def outcomes_card(user):
    """The buyer dashboard's card: bought leads by outcome."""
    counts = queries.count_outcomes(buyer_org_id=user.organization_id)
    total = sum(counts.values())
    if not total:
        return ("Leads by outcome", "No leads bought yet.", url_for("marketplace.market"))
    parts = [f"{counts[o]:,} {o}" for o in OUTCOMES if counts.get(o)]
    parts.append(f"{counts.get(None, 0):,} without an outcome")
    body = f"{total:,} lead{'' if total == 1 else 's'} bought: " + ", ".join(parts)
    return ("Leads by outcome", body, url_for("marketplace.buyer_leads"))


def register_navigation(app) -> None:
    register_nav(app, "buyer", "Leads", "marketplace.buyer_leads")
    register_card(app, "buyer", outcomes_card)
