"""Web pages of the listings: the market, with its filters beside the results, and buying
from it (the ticked leads or the first N matches) through a confirmation page."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException

from app.auth.decorators import buyer_only
from app.extensions import db
from app.money import dollars
from app.web.forms import flat_messages, form_post
from app.web.paging import query_args
from app.web.registry import register_nav
from marketplace import verticals
from marketplace.blueprints import web_bp as bp
from marketplace.listings import services
from marketplace.listings.schemas import (
    BANT_CRITERIA,
    PHONE_TYPES,
    SORT_NAMES,
    STAGES,
    TEMPERATURES,
    LeadFilterArgs,
    LeadPreviewSchema,
)
from marketplace.purchases import services as purchases
from marketplace.purchases.forms import ConfirmPurchaseForm
from marketplace.purchases.schemas import MarketPurchaseArgs, market_purchase_request
from verification.rules.columns import TIMELINES

PAGE_SIZE = 50
# The page a seller quality badge links to (api-v1.md); linked once a package serves it.
SELLER_PAGE = "/sellers/{seller_id}"
# The buyer's reading of each refusal of a purchase; the page drawn again shows what is now true.
PURCHASE_MESSAGES = {
    "price_changed": "Prices changed since this page was drawn, so nothing was bought. "
    "Check the new total below and confirm again.",
    "insufficient_funds": "Your wallet does not cover this purchase, so nothing was bought. "
    "Top up your wallet and confirm again.",
    "lead_unavailable": "A lead was sold or withdrawn meanwhile, so nothing was bought. "
    "The leads still for sale are below.",
    "not_enough_leads": "Fewer leads match now than you asked for, so nothing was bought. "
    "The leads that match now are below.",
    "already_purchased": "Your organisation already bought one of these leads, so nothing "
    "was bought.",
    "idempotency_key_reused": "This confirmation was already used; check the leads and "
    "confirm again.",
}


def _query_args() -> dict:
    """The filter form's values: blank fields mean "any", ticked boxes become a comma list."""
    args = {}
    for key, values in request.args.lists():
        values = [value for value in values if value.strip()]
        if values:
            args[key] = ",".join(values)
    return args


def _served(path: str) -> str | None:
    """``path`` if a page of the app answers it, else None (the page is another package's)."""
    try:
        current_app.url_map.bind("").match(path, method="GET")
    except HTTPException:
        return None
    return path


def _seller_page(seller_id: int) -> str | None:
    return _served(SELLER_PAGE.format(seller_id=seller_id))


@bp.get("/market")
@login_required
def market():
    errors, page = {}, {"items": [], "next_cursor": None}
    try:
        args = LeadFilterArgs().load({"limit": PAGE_SIZE, **_query_args()})
    except ValidationError as error:
        errors = {key: flat_messages(value) for key, value in error.messages.items()}
    else:
        query = {key: args.pop(key) for key in ("sort", "cursor", "limit")}
        page = services.search_market(filters=args, **query)
    kept = query_args(drop=("cursor",), flat=False)
    next_url = first_url = None
    if page["next_cursor"]:
        next_url = url_for("marketplace.market", **kept, cursor=page["next_cursor"])
    if request.args.get("cursor"):
        first_url = url_for("marketplace.market", **kept)
    return render_template(
        "marketplace/listings/market.html",
        leads=LeadPreviewSchema(many=True).dump(page["items"]),
        next_url=next_url,
        first_url=first_url,
        errors=errors,
        verticals=db.session.scalars(verticals.list_verticals()).all(),
        choices={
            "stage": STAGES,
            "bant": BANT_CRITERIA,
            "timeline": TIMELINES,
            "temperature": TEMPERATURES,
            "phone_type": PHONE_TYPES,
            "sort": SORT_NAMES,
        },
        seller_page=_seller_page,
        can_buy=current_user.role == "buyer",
        max_quantity=purchases.MAX_LEADS,
    )


@bp.get("/leads/<int:lead_id>")
@login_required
def lead(lead_id):
    """One lead: masked as the market shows it, or in full for its seller, its buyers and
    admins; a lead not on sale is 404 to everyone else (as ``GET /api/v1/leads/<id>``)."""
    found, full = services.get_lead_view(user=current_user, lead_id=lead_id)
    return render_template(
        "marketplace/listings/lead.html",
        lead=found,
        full=full,
        preview=LeadPreviewSchema().dump(found),
        seller_page=_seller_page(found.seller_id),
        can_buy=current_user.role == "buyer" and not full,
    )


# --- buying: a confirmation page for the ticked leads or the first N matches --------------------


def _purchase_request() -> tuple[dict | None, dict]:
    """``purchase_leads``'s arguments from the page's query string, or the problems in it."""
    query = {key: value for key, value in _query_args().items() if key != "back"}
    try:
        return market_purchase_request(MarketPurchaseArgs().load(query)), {}
    except ValidationError as error:
        return None, error.messages


def _confirm_url(order: dict, quote: dict) -> str:
    """Where the Confirm form posts: the request for exactly the leads the page shows (the
    ticked ones still for sale; as many matches as there are, up to the quantity asked)."""
    args = query_args(flat=False)
    if "lead_ids" in order:
        args["lead_ids"] = ",".join(str(lead.id) for lead in quote["leads"])
    else:
        args["quantity"] = str(len(quote["leads"]))
    return url_for("marketplace.buy", **args)


def _confirm_page(form):
    order, errors = _purchase_request()
    quote = None
    if order:
        quote = purchases.quote_purchase(buyer=current_user, **order)
    back = request.args.get("back") or ""
    return render_template(
        "marketplace/listings/buy.html",
        form=form,
        order=order,
        errors=errors,
        quote=quote,
        leads=LeadPreviewSchema(many=True).dump(quote["leads"]) if quote else [],
        confirm_url=_confirm_url(order, quote) if quote and quote["leads"] else None,
        back_url=url_for("marketplace.market") + ("?" + back if back else ""),
    ), 422 if errors else 200


@bp.route("/market/buy", methods=["GET", "POST"])
@buyer_only
@form_post(ConfirmPurchaseForm, page=_confirm_page, messages=PURCHASE_MESSAGES)
def buy(form):
    """GET: what would be bought, its total and the wallet; POST (Confirm): buy it."""
    order, _errors = _purchase_request()
    if order is None:
        return _confirm_page(form)
    if not form.validate_on_submit():
        if form.is_submitted():  # a tampered request id or total: draw the page afresh
            flash("Check the leads and the total, then confirm again.", "error")
        return _confirm_page(form)
    purchase = purchases.purchase_leads(
        buyer=current_user,
        **order,
        expected_total_cents=form.expected_total_cents.data,
        idempotency_key=f"web:{form.request_id.data}",
    )
    count = len(purchase.items)
    flash(
        f"Bought {count} lead{'' if count == 1 else 's'} for {dollars(purchase.total_cents)}.",
        "success",
    )
    return redirect(url_for("marketplace.buyer_purchase", purchase_id=purchase.id))


def register_navigation(app) -> None:
    # Any signed-in account may open the market; buyers and admins have it in their navigation.
    for role in ("buyer", "admin"):
        register_nav(app, role, "Market", "marketplace.market")
