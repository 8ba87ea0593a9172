"""Web pages of disputes: a buyer's returns and the return form, a seller's answers, the admin's
queue, one dispute and the figures. Routes sit on verification's page blueprint."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.auth.decorators import admin_only, buyer_only, seller_only
from app.db import utcnow
from app.errors import NotFound
from app.fields import db_id
from app.money import dollars
from app.settings import get_settings
from app.web.filters import duration
from app.web.forms import form_post
from app.web.paging import page_of
from app.web.registry import register_card, register_nav
from marketplace import queries as market
from verification import queries as verification
from verification.disputes import queries, services
from verification.disputes.forms import (
    REASON_LABELS,
    REFUSALS,
    DecisionForm,
    DisputeForm,
    ResponseForm,
)
from verification.forms import BANT_LABELS
from verification.rules.disputes import STATUSES
from verification.views import bp

PAGE_SIZE = 50


def _choice(name: str, allowed, default: str | None = None) -> tuple[str | None, dict]:
    """A filter of the query string: its value if allowed, else none and an error for it."""
    value = request.args.get(name, default) or None
    if value is None or value in allowed:
        return value, {}
    return None, {name: f"Unknown {name}: choose one from the list."}


def _page(stmt, order, endpoint: str, key=None, **kept) -> dict:
    """One page of ``stmt`` and the links to the next and first pages, filters kept."""
    return page_of(stmt, order=order, endpoint=endpoint, limit=PAGE_SIZE, args=kept, key=key)


def _render(template: str, status: int = 200, **context):
    return render_template(
        f"verification/disputes/{template}",
        reason_labels=REASON_LABELS,
        bant_labels=BANT_LABELS,
        now=utcnow(),
        **context,
    ), status


# --- buyer ---------------------------------------------------------------------------------------


def _buyer_share():
    return {
        **queries.buyer_share(current_user.organization_id, now=utcnow()),
        "limit_pct": get_settings().buyer_dispute_limit_pct,
    }


@bp.get("/buyer/disputes")
@buyer_only
def buyer_disputes():
    status, errors = _choice("status", STATUSES)
    page = _page(
        queries.list_disputes(current_user, status=status),
        queries.LIST_ORDER,
        "verification.buyer_disputes",
        status=status,
    )
    return _render(
        "buyer_list.html",
        page=page,
        status=status,
        statuses=STATUSES,
        errors=errors,
        share=_buyer_share(),
    )


def _new_dispute_page(form, status: int = 200):
    lead_id = request.args.get("lead_id", type=db_id)
    if lead_id is None:
        raise NotFound("Say which lead to return: open it from your bought leads.")
    item = queries.get_returnable(buyer_org_id=current_user.organization_id, lead_id=lead_id)
    now = utcnow()
    return _render(
        "new.html",
        status,
        form=form,
        item=item,
        lead=item.lead,
        blocker=queries.return_blocker(item, now=now),
        refusals=REFUSALS,
        share=_buyer_share(),
    )


def _new_dispute_after_refusal(form):
    return _new_dispute_page(form, 422)


@bp.route("/buyer/disputes/new", methods=["GET", "POST"])
@buyer_only
@form_post(DisputeForm, page=_new_dispute_after_refusal, messages=REFUSALS)
def new_dispute(form):
    if form.validate_on_submit():
        dispute = services.open_dispute(
            actor=current_user,
            lead_id=request.args.get("lead_id", type=db_id),
            reason=form.reason.data,
            note=form.note.data,
        )
        if dispute.status == "accepted":
            flash(
                f"Returned, and accepted at once: {services.AUTOMATIC_NOTES[dispute.reason]} "
                f"{dollars(dispute.price_cents)} is back in your wallet.",
                "success",
            )
        else:
            flash("Returned. The seller may answer; Leadex staff then decide.", "success")
        return redirect(url_for("verification.buyer_dispute", dispute_id=dispute.id))
    return _new_dispute_page(form, 422 if form.is_submitted() else 200)


@bp.get("/buyer/disputes/<int:dispute_id>")
@buyer_only
def buyer_dispute(dispute_id):
    dispute = queries.get_dispute_for(current_user, dispute_id)
    return _render(
        "buyer_detail.html",
        dispute=dispute,
        lead=market.get_lead(dispute.lead_id),
        purchase=queries.purchase_of(dispute),
    )


# --- seller --------------------------------------------------------------------------------------


@bp.get("/seller/disputes")
@seller_only
def seller_disputes():
    page = _page(
        queries.list_disputes(current_user),
        queries.SELLER_ORDER,
        "verification.seller_disputes",
        key=queries.seller_order_key,
    )
    return _render("seller_list.html", page=page)


def _seller_dispute_page(form, dispute_id: int, status: int = 200):
    dispute = queries.get_dispute_for(current_user, dispute_id)
    return _render(
        "seller_detail.html",
        status,
        dispute=dispute,
        lead=market.get_lead(dispute.lead_id),
        form=form,
        can_answer=dispute.status == "open" and utcnow() < dispute.deadline,
    )


def _seller_after_refusal(form, dispute_id):
    return _seller_dispute_page(form, dispute_id, 409)


@bp.route("/seller/disputes/<int:dispute_id>", methods=["GET", "POST"])
@seller_only
@form_post(ResponseForm, page=_seller_after_refusal, category="warning")
def seller_dispute(form, dispute_id):
    queries.get_dispute_for(current_user, dispute_id)  # another seller's: 404
    if form.validate_on_submit():
        services.respond(actor=current_user, dispute_id=dispute_id, note=form.note.data)
        flash("Your answer is sent. Leadex staff read it before deciding.", "success")
        return redirect(url_for("verification.seller_dispute", dispute_id=dispute_id))
    return _seller_dispute_page(form, dispute_id, 422 if form.is_submitted() else 200)


# --- admin ---------------------------------------------------------------------------------------


@bp.get("/admin/disputes")
@admin_only
def admin_disputes():
    status, errors = _choice("status", (*STATUSES, "any"), default="open")
    reason, reason_errors = _choice("reason", REASON_LABELS)
    errors.update(reason_errors)
    if status == "any":
        status = None
    page = _page(
        queries.list_disputes(current_user, status=status, reason=reason, parties=True),
        queries.QUEUE_ORDER if status == "open" else queries.LIST_ORDER,
        "verification.admin_disputes",
        status=status or "any",
        reason=reason,
    )
    return _render(
        "admin_queue.html",
        page=page,
        status=status,
        reason=reason,
        statuses=STATUSES,
        errors=errors,
        summary=queries.queue_summary(utcnow()),
    )


def _admin_dispute_page(form, dispute_id: int, status: int = 200):
    dispute = queries.get_dispute_for(current_user, dispute_id)
    return _render(
        "admin_detail.html",
        status,
        dispute=dispute,
        lead=market.get_lead(dispute.lead_id),
        purchase=queries.purchase_of(dispute),
        quality=verification.seller_quality(dispute.seller_org_id),
        share={
            **queries.buyer_share(dispute.buyer_org_id, now=utcnow()),
            "limit_pct": get_settings().buyer_dispute_limit_pct,
        },
        form=form,
    )


def _admin_after_refusal(form, dispute_id):
    # Decided by another admin meanwhile: the page shows the decision that stands.
    return _admin_dispute_page(form, dispute_id, 409)


@bp.route("/admin/disputes/<int:dispute_id>", methods=["GET", "POST"])
@admin_only
@form_post(DecisionForm, page=_admin_after_refusal, category="warning")
def admin_dispute(form, dispute_id):
    dispute = queries.get_dispute_for(current_user, dispute_id)
    form.reason = dispute.reason
    if form.validate_on_submit():
        decided = services.resolve_dispute(
            actor=current_user,
            dispute_id=dispute_id,
            decision=form.decision.data,
            note=form.note.data,
            answers=form.answers(),
        )
        if decided.status == "accepted":
            message = f"Accepted: the buyer is credited {dollars(decided.price_cents)}."
        else:
            message = "Rejected: the seller keeps the sale."
        flash(message, "success")
        return redirect(url_for("verification.admin_disputes"))
    status = 200
    if form.is_submitted():
        if dispute.status != "open":
            flash(services.AlreadyResolved.message, "warning")
            status = 409
        else:
            status = 422
    return _admin_dispute_page(form, dispute_id, status)


@bp.get("/admin/disputes/figures")
@admin_only
def dispute_figures():
    by_seller = queries.reasons_by("seller_org_id")
    by_vertical = queries.reasons_by("vertical_id")
    return _render(
        "figures.html",
        by_seller=by_seller,
        by_vertical=by_vertical,
        seller_names=verification.seller_names({row[0] for row in by_seller}),
        vertical_names=queries.vertical_names({row[0] for row in by_vertical}),
        times=queries.resolution_times(),
    )


# --- navigation and dashboard --------------------------------------------------------------------


def seller_card(user):
    count = queries.open_count(seller_id=user.organization_id)
    body = f"{count:,} open dispute{'s' * (count != 1)} on your leads"
    return ("Disputes", body, url_for("verification.seller_disputes"))


def buyer_card(user):
    count = queries.open_count(buyer_id=user.organization_id)
    share = queries.buyer_share(user.organization_id, now=utcnow())
    body = (
        f"{count:,} open · {share['disputed']:,} of {share['bought']:,} leads returned in "
        f"{share['days']} days (limit {get_settings().buyer_dispute_limit_pct:g}%)"
    )
    return ("Disputes", body, url_for("verification.buyer_disputes"))


def admin_card(user):
    summary = queries.queue_summary(utcnow())
    body = f"{summary['waiting']:,} waiting"
    if summary["oldest_waited"] is not None:
        body += f" · oldest for {duration(summary['oldest_waited'])}"
    return ("Disputes", body, url_for("verification.admin_disputes"))


def register_navigation(app) -> None:
    register_nav(app, "buyer", "Disputes", "verification.buyer_disputes")
    register_nav(app, "seller", "Disputes", "verification.seller_disputes")
    register_nav(app, "admin", "Disputes", "verification.admin_disputes")
    register_card(app, "buyer", buyer_card)
    register_card(app, "seller", seller_card)
    register_card(app, "admin", admin_card)
