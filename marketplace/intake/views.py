"""Web pages of intake: the seller's batches, the two-step upload, a batch and its leads, and
the seller's controls on them (withdraw, reprice: listings' services)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user

from app.api import paginate
from app.auth.decorators import role_required, seller_only
from app.csvutil import csv_response
from app.extensions import db
from app.money import dollars
from app.web.forms import form_post
from app.web.registry import register_card, register_nav
from marketplace import queries as market
from marketplace import standing, verticals
from marketplace.blueprints import web_bp as bp
from marketplace.intake import queries, services, staging
from marketplace.intake.forms import (
    KEEP_AS_EXTRA,
    BatchPriceForm,
    BatchUploadForm,
    WithdrawForm,
    column_choices,
    column_map_form,
)
from marketplace.intake.source import (
    FileProblem,
    check_headers,
    map_headers,
    missing_columns,
    preview_csv,
    required_columns,
)
from marketplace.listings import services as listings
from marketplace.models import Batch, BatchRejection, Lead
from marketplace.schemas import BatchSchema
from verification.rules.columns import LEAD_COLUMNS, REQUIRED_COLUMNS, canonical_header

PAGE_SIZE = 50

seller_or_admin = role_required("seller", "admin")


def _page_of(stmt, order) -> dict:
    return paginate(
        db.session, stmt, order=order, cursor=request.args.get("cursor") or None, limit=PAGE_SIZE
    )


# --- the seller's batches ------------------------------------------------------------------------


@bp.get("/seller/batches")
@seller_only
def batches():
    page = _page_of(
        queries.list_batches(seller_id=current_user.organization_id), [(Batch.id, True)]
    )
    return render_template(
        "marketplace/intake/batches.html", batches=page["items"], next_cursor=page["next_cursor"]
    )


# --- upload, step 1: the file and its terms ------------------------------------------------------


@bp.route("/seller/batches/new", methods=["GET", "POST"])
@seller_only
def new_batch():
    form = BatchUploadForm()
    form.set_verticals(db.session.scalars(verticals.list_verticals()))
    if form.validate_on_submit():
        token = staging.stage(
            form.file.data.stream,
            filename=form.file.data.filename,
            terms={
                "vertical": form.vertical.data,
                "price_cents": form.price_cents,
                "max_sales": form.sales_limit,
                "name": (form.name.data or "").strip() or None,
            },
            user_id=current_user.id,
        )
        return redirect(url_for(".map_columns", token=token))
    return render_template(
        "marketplace/intake/new_batch.html", form=form, required=REQUIRED_COLUMNS
    ), 422 if form.errors else 200


# --- upload, step 2: match the file's columns ----------------------------------------------------


def _header_problem(mapped: list[str], vertical) -> str | None:
    try:
        check_headers(mapped, vertical)
    except FileProblem as problem:
        return problem.message
    return None


def _plan_columns(headers, sample, remembered: dict, choice_values: set) -> tuple[list, list]:
    """The rows of the mapping table, and a ``(field, label, default)`` per drop-down.

    A header that names a Leadex column is recognised as intake will read it; any other header
    gets a drop-down, preset to the seller's remembered choice.
    """
    columns, selects = [], []
    for index, header in enumerate(headers):
        canonical = canonical_header(header)
        column = {
            "header": header,
            "examples": [r[index] for r in sample if index < len(r) and r[index].strip()][:2],
            "field": None,
            "target": remembered.get(header) or canonical,
        }
        if canonical not in LEAD_COLUMNS:
            candidates = (remembered.get(header), canonical)
            default = next((c for c in candidates if c and c in choice_values), KEEP_AS_EXTRA)
            column["field"] = f"col_{index}"
            selects.append((column["field"], header or f"(column {index + 1}, no name)", default))
        columns.append(column)
    columns.sort(key=lambda c: c["field"] is None)  # the ones to choose come first
    return columns, selects


@bp.route("/seller/batches/new/<token>/map", methods=["GET", "POST"])
@seller_only
def map_columns(token):
    staged = staging.get_staged(token, user_id=current_user.id)
    if staged is None:
        abort(404)
    try:
        headers, sample, _delimiter = preview_csv(Path(staged["path"]))
    except FileProblem as problem:
        flash(problem.message, "error")
        staging.unstage(token)
        return redirect(url_for(".new_batch"))
    except FileNotFoundError:
        flash("That upload has expired; choose the file again.", "error")
        staging.unstage(token)
        return redirect(url_for(".new_batch"))

    vertical = verticals.get_vertical(staged["vertical"])
    remembered = standing.seller_account(current_user.organization_id).column_map or {}
    choices = column_choices(tuple(vertical.required_columns or ()))
    columns, selects = _plan_columns(headers, sample, remembered, {c.value for c in choices})
    form = column_map_form(selects, choices)

    chosen = {c["header"]: form[c["field"]].data for c in columns if c["field"]}
    mapped = map_headers(headers, {**remembered, **chosen})
    problem = _header_problem(mapped, vertical)
    if form.validate_on_submit() and problem is None:
        with open(staged["path"], "rb") as stream:
            batch = services.create_csv_batch(
                user=current_user,
                stream=stream,
                filename=staged["filename"],
                vertical=staged["vertical"],
                price_cents=staged["price_cents"],
                max_sales=staged["max_sales"],
                name=staged["name"],
                remember_mapping=chosen or None,
            )
        staging.unstage(token)
        return redirect(url_for(".batch", batch_id=batch.id))
    status = 422 if form.is_submitted() else 200
    return render_template(
        "marketplace/intake/map_columns.html",
        form=form,
        token=token,
        staged=staged,
        vertical=vertical,
        columns=columns,
        headers=headers,
        sample=sample,
        required=required_columns(vertical),
        missing=missing_columns(mapped, vertical),
        problem=problem,
        refused=status == 422,
    ), status


# --- one batch -----------------------------------------------------------------------------------


def _batch_page(batch_id: int, *, price_form: BatchPriceForm | None = None):
    batch = services.get_batch_for(user=current_user, batch_id=batch_id)
    page = _page_of(
        queries.list_rejections(batch_id=batch.id),
        [(BatchRejection.row_number, False), (BatchRejection.id, False)],
    )
    can_reprice = (
        batch.seller_id == current_user.organization_id
        and batch.status in listings.REPRICEABLE_BATCH_STATUSES
    )
    if price_form is None and can_reprice:
        price_form = BatchPriceForm(
            formdata=None, data={"price": Decimal(batch.price_cents) / 100}
        )
    return render_template(
        "marketplace/intake/batch.html",
        batch=batch,
        view=market.describe_batch(batch),
        rejections=page["items"],
        next_cursor=page["next_cursor"],
        cursor=request.args.get("cursor"),
        price_form=price_form if can_reprice else None,
        withdraw_form=WithdrawForm() if batch.status == "listed" else None,
    ), 422 if price_form is not None and price_form.errors else 200


@bp.get("/seller/batches/<int:batch_id>")
@seller_or_admin
def batch(batch_id):
    return _batch_page(batch_id)


def _back_to_batch(form, batch_id):
    return redirect(url_for(".batch", batch_id=batch_id))


@bp.post("/seller/batches/<int:batch_id>/price")
@seller_only
@form_post(
    BatchPriceForm,
    page=lambda form, batch_id: _batch_page(batch_id, price_form=form),
    fields={"price_cents": "price"},
)
def change_batch_price(form, batch_id):
    if not form.validate_on_submit():
        return _batch_page(batch_id, price_form=form)
    batch = listings.change_batch_price(
        actor=current_user, batch_id=batch_id, price_cents=form.price_cents
    )
    flash(
        f"New price {dollars(batch.price_cents)} per lead for the leads still for sale; "
        "leads already sold keep their price.",
        "success",
    )
    return redirect(url_for(".batch", batch_id=batch.id))


@bp.post("/seller/batches/<int:batch_id>/withdraw")
@seller_or_admin
@form_post(WithdrawForm, page=_back_to_batch)
def withdraw_batch(form, batch_id):
    batch = listings.withdraw_batch(actor=current_user, batch_id=batch_id)
    flash(
        f"Batch #{batch.id} is withdrawn: its leads are off sale for good. "
        "Leads already sold stay with their buyers.",
        "success",
    )
    return redirect(url_for(".batch", batch_id=batch.id))


@bp.get("/seller/batches/<int:batch_id>/status.json")
@seller_or_admin
def batch_status(batch_id):
    batch = services.get_batch_for(user=current_user, batch_id=batch_id)
    response = jsonify(BatchSchema().dump(market.describe_batch(batch)))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/seller/batches/<int:batch_id>/rejections.csv")
@seller_or_admin
def rejections_csv(batch_id):
    batch = services.get_batch_for(user=current_user, batch_id=batch_id)
    return csv_response(
        queries.REJECTION_CSV_HEADER,
        queries.iter_rejection_rows(batch_id=batch.id),
        f"batch-{batch.id}-rejections.csv",
    )


@bp.get("/seller/batches/<int:batch_id>/leads")
@seller_or_admin
def batch_leads(batch_id):
    batch = services.get_batch_for(user=current_user, batch_id=batch_id)
    page = _page_of(queries.list_batch_leads(batch_id=batch.id), [(Lead.id, False)])
    return render_template(
        "marketplace/intake/batch_leads.html",
        batch=batch,
        leads=page["items"],
        next_cursor=page["next_cursor"],
        cursor=request.args.get("cursor"),
        withdraw_form=WithdrawForm(),
    )


def _back_to_leads(form, lead_id):
    # A refusal is about a lead the user may see (others are 404): back to its batch's leads.
    lead = db.session.get(Lead, lead_id)
    return redirect(url_for(".batch_leads", batch_id=lead.batch_id))


@bp.post("/seller/leads/<int:lead_id>/withdraw")
@seller_or_admin
@form_post(WithdrawForm, page=_back_to_leads)
def withdraw_lead(form, lead_id):
    lead = listings.withdraw_lead(actor=current_user, lead_id=lead_id)
    flash(f"Lead #{lead.id} is withdrawn: it is off sale for good.", "success")
    return redirect(url_for(".batch_leads", batch_id=lead.batch_id))


# --- navigation and dashboard --------------------------------------------------------------------


def batches_card(user):
    """The seller dashboard's card: how many batches, how many leads accepted."""
    count, accepted = queries.count_batches(seller_id=user.organization_id)
    body = (
        f"{count:,} batch{'' if count == 1 else 'es'}, "
        f"{accepted:,} lead{'' if accepted == 1 else 's'} accepted"
    )
    return ("Batches", body, url_for("marketplace.batches"))


def register_navigation(app) -> None:
    register_nav(app, "seller", "Batches", "marketplace.batches")
    register_nav(app, "seller", "Upload", "marketplace.new_batch")
    register_card(app, "seller", batches_card)
