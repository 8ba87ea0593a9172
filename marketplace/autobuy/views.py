"""Web pages of saved searches: the list with each auto-buy order's state (and why it paused),
create, edit, pause and resume, delete."""

from __future__ import annotations

from decimal import Decimal

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from marshmallow import ValidationError
from werkzeug.datastructures import MultiDict

from app.auth.decorators import buyer_only
from app.extensions import db
from app.web.forms import flat_messages, form_post, redirect_to
from app.web.paging import page_of
from app.web.registry import register_card, register_nav
from marketplace import verticals
from marketplace.autobuy import services
from marketplace.autobuy.forms import SavedSearchForm
from marketplace.autobuy.models import SavedSearch
from marketplace.blueprints import web_bp as bp
from marketplace.listings.schemas import (
    BANT_CRITERIA,
    PHONE_TYPES,
    STAGES,
    TEMPERATURES,
    LeadFilterArgs,
    LeadFilterSchema,
)
from verification.rules.columns import TIMELINES

PAGE_SIZE = 25
FILTER_KEYS = tuple(LeadFilterSchema().fields)
CHOICES = {
    "stage": STAGES,
    "bant": BANT_CRITERIA,
    "timeline": TIMELINES,
    "temperature": TEMPERATURES,
    "phone_type": PHONE_TYPES,
}


def filter_values(filter: dict) -> MultiDict:
    """A stored filter as the market's query string has it: lists repeated, booleans as words."""
    values = MultiDict()
    for key, value in (filter or {}).items():
        for item in value if isinstance(value, list) else [value]:
            values.add(key, str(item).lower() if isinstance(item, bool) else str(item))
    return values


def _load_filter(values) -> tuple[dict, dict]:
    """The market's filters from a form or query string, as /market reads them (ticked boxes
    become a comma list, blanks mean any); other keys (the market's sort, a page) are not part
    of a saved search. Returns (filter, errors)."""
    raw = {}
    for key in FILTER_KEYS:
        ticked = [value for value in values.getlist(key) if value.strip()]
        if ticked:
            raw[key] = ",".join(ticked)
    try:
        return LeadFilterArgs(only=FILTER_KEYS).load(raw), {}
    except ValidationError as error:
        return {}, {key: flat_messages(value) for key, value in error.messages.items()}


def _form_page(form, *, values, errors=None, search=None, status=200):
    return render_template(
        "marketplace/autobuy/form.html",
        form=form,
        values=values,
        errors=errors or {},
        search=search,
        choices=CHOICES,
        verticals=db.session.scalars(verticals.list_verticals()).all(),
    ), status


def _cents_to_dollars(cents: int | None) -> Decimal | None:
    return None if cents is None else Decimal(cents) / 100


# --- the list ------------------------------------------------------------------------------------


@bp.get("/buyer/saved-searches")
@buyer_only
def saved_searches():
    page = page_of(
        services.list_saved_searches(buyer_org_id=current_user.organization_id),
        order=[(SavedSearch.id, True)],
        endpoint=".saved_searches",
        limit=PAGE_SIZE,
    )
    return render_template(
        "marketplace/autobuy/saved_searches.html",
        searches=page["items"],
        market_url=lambda search: url_for(
            "marketplace.market", **filter_values(search.filter).to_dict(flat=False)
        ),
        next_url=page["next_url"],
        first_url=page["first_url"],
    )


# --- create and edit -----------------------------------------------------------------------------


@bp.route("/buyer/saved-searches/new", methods=["GET", "POST"])
@buyer_only
def new_saved_search():
    """Prefilled from the query string, so /market's "Save this search" brings its filters."""
    form = SavedSearchForm()
    if request.method == "GET":
        return _form_page(form, values=request.args)
    filter, errors = _load_filter(request.form)
    if not form.validate_on_submit() or errors:
        return _form_page(form, values=request.form, errors=errors, status=422)
    search = services.create_saved_search(
        buyer=current_user,
        name=form.name.data.strip(),
        filter=filter,
        auto_buy=form.auto_buy_caps(),
    )
    flash(f"Saved search “{search.name}” created.", "success")
    return redirect(url_for(".saved_searches"))


@bp.route("/buyer/saved-searches/<int:search_id>/edit", methods=["GET", "POST"])
@buyer_only
def edit_saved_search(search_id):
    search = services.get_saved_search(
        buyer_org_id=current_user.organization_id, search_id=search_id
    )
    if request.method == "GET":
        form = SavedSearchForm(
            formdata=None,
            data={
                "name": search.name,
                "auto_buy": search.auto_buy_status is not None,
                "max_price": _cents_to_dollars(search.max_price_cents),
                "daily_cap": search.daily_cap,
                "budget": _cents_to_dollars(search.budget_cents),
            },
        )
        return _form_page(form, values=filter_values(search.filter), search=search)
    form = SavedSearchForm()
    filter, errors = _load_filter(request.form)
    if not form.validate_on_submit() or errors:
        return _form_page(form, values=request.form, errors=errors, search=search, status=422)
    caps = form.auto_buy_caps()
    if caps is not None:  # editing keeps the order's state; pause and resume are buttons
        caps["status"] = search.auto_buy_status or "active"
    services.replace_saved_search(
        buyer=current_user,
        search_id=search.id,
        name=form.name.data.strip(),
        filter=filter,
        auto_buy=caps,
    )
    flash(f"Saved search “{form.name.data.strip()}” updated.", "success")
    return redirect(url_for(".saved_searches"))


# --- pause, resume, delete -----------------------------------------------------------------------


@bp.post("/buyer/saved-searches/<int:search_id>/pause", defaults={"action": "pause"})
@bp.post("/buyer/saved-searches/<int:search_id>/resume", defaults={"action": "resume"})
@buyer_only
@form_post(None, page=redirect_to(".saved_searches"))
def set_auto_buy(search_id, action):
    status = "paused" if action == "pause" else "active"
    search = services.set_auto_buy_status(buyer=current_user, search_id=search_id, status=status)
    done = "paused" if action == "pause" else "resumed"
    flash(f"Auto-buy of “{search.name}” {done}.", "success")
    return redirect(url_for(".saved_searches"))


@bp.post("/buyer/saved-searches/<int:search_id>/delete")
@buyer_only
@form_post(None, page=redirect_to(".saved_searches"))
def delete_saved_search(search_id):
    services.delete_saved_search(buyer=current_user, search_id=search_id)
    flash("Saved search deleted.", "success")
    return redirect(url_for(".saved_searches"))


# --- navigation and dashboard --------------------------------------------------------------------


def auto_buy_card(user):
    """The buyer dashboard's card: how many orders buy, how many paused, and why."""
    state = services.auto_buy_state(buyer_org_id=user.organization_id)
    link = url_for("marketplace.saved_searches")
    if not state["active"] and not state["paused"]:
        return ("Auto-buy", "No saved search buys automatically.", link)
    body = f"{state['active']:,} active, {state['paused']:,} paused"
    if state["paused_reason"]:
        body += f" (paused: {state['paused_reason']})"
    return ("Auto-buy", body, link)


def register_navigation(app) -> None:
    register_nav(app, "buyer", "Saved searches", "marketplace.saved_searches")
    register_card(app, "buyer", auto_buy_card)
