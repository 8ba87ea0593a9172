"""Web pages of the listings: the market, with its filters beside the results."""

from __future__ import annotations

from flask import current_app, render_template, request, url_for
from flask_login import login_required
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException

from app.extensions import db
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
from verification.rules.columns import TIMELINES

PAGE_SIZE = 50
# The page a seller quality badge links to (api-v1.md); linked once a package serves it.
SELLER_PAGE = "/sellers/{seller_id}"


def _query_args() -> dict:
    """The filter form's values: blank fields mean "any", ticked boxes become a comma list."""
    args = {}
    for key, values in request.args.lists():
        values = [value for value in values if value.strip()]
        if values:
            args[key] = ",".join(values)
    return args


def _seller_page(seller_id: int) -> str | None:
    path = SELLER_PAGE.format(seller_id=seller_id)
    try:
        current_app.url_map.bind("").match(path, method="GET")
    except HTTPException:
        return None
    return path


@bp.get("/market")
@login_required
def market():
    errors, page = {}, {"items": [], "next_cursor": None}
    try:
        args = LeadFilterArgs().load({"limit": PAGE_SIZE, **_query_args()})
    except ValidationError as error:
        errors = error.messages
    else:
        query = {key: args.pop(key) for key in ("sort", "cursor", "limit")}
        page = services.search_market(filters=args, **query)
    kept = {key: values for key, values in request.args.lists() if key != "cursor"}
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
    )


def register_navigation(app) -> None:
    # Any signed-in account may open the market; buyers and admins have it in their navigation.
    for role in ("buyer", "admin"):
        register_nav(app, role, "Market", "marketplace.market")
