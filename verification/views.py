"""Web pages of verification: the spot-check queue, the sellers table, quality pages."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from app.api import paginate
from app.auth.decorators import admin_only, seller_only
from app.db import utcnow
from app.extensions import db
from app.fields import db_id
from app.settings import get_settings, settings_dict, update_settings
from app.web.charts import Series, line_chart
from app.web.forms import form_post
from app.web.registry import register_card, register_nav
from marketplace import queries as market
from marketplace import services as market_services
from verification import queries, services
from verification.forms import (
    BANT_LABELS,
    OUTCOME_LABELS,
    HoldForm,
    SettingsForm,
    SpotCheckForm,
)
from verification.rules import csp
from verification.rules.quality import QUALITY_SCORE_FORMULA, QUALITY_WEIGHTS
from verification.rules.sampling import CODE_LETTERS_LEVEL_II, INSPECTIONS, plan_for
from verification.rules.switching import (
    ACCEPTED_TO_REDUCE,
    ACCEPTED_TO_RELAX,
    NORMAL_WINDOW,
    REJECTIONS_TO_HOLD,
    REJECTIONS_TO_TIGHTEN,
)
from verification.schemas import call_script

bp = Blueprint("verification", __name__, template_folder="templates")

PAGE_SIZE = 50

# Rates on the quality pages: (key, label, what it counts).
RATE_ROWS = (
    (
        "rejection_rate",
        "Rows rejected by the automatic checks",
        "leads_rejected",
        "leads_submitted",
    ),
    (
        "defect_rate",
        "Inspected leads found defective (batches and streams)",
        "leads_defective",
        "leads_inspected",
    ),
    (
        "batch_rejection_rate",
        "Batches rejected at spot-check",
        "batches_rejected",
        "batches_inspected",
    ),
    ("dispute_rate", "Sales disputed by buyers", "disputes", "leads_sold"),
    ("upheld_dispute_rate", "Sales with an upheld dispute", "disputes_upheld", "leads_sold"),
    ("won_rate", "Buyer outcomes that were won deals", "outcomes_won", "outcomes_recorded"),
)
# Lines of the weekly chart: (key, label, css class).
CHART_SERIES = (
    ("rejection_rate", "Rows rejected by checks", "series-a"),
    ("batch_rejection_rate", "Batches rejected at spot-check", "series-b"),
    ("dispute_rate", "Sales disputed by buyers", "series-c"),
)
SELLER_COLUMNS = (
    ("name", "Seller"),
    ("status", "Status"),
    ("quality_score", "Score"),
    ("inspection_level", "Inspection"),
    ("leads_submitted", "Rows"),
    ("rejection_rate", "Rows rejected"),
    ("batches_inspected", "Batches inspected"),
    ("batch_rejection_rate", "Batches rejected"),
    ("leads_sold", "Sold"),
    ("dispute_rate", "Disputed"),
    ("upheld_dispute_rate", "Upheld"),
    ("won_rate", "Won"),
)


# --- the spot-check queue ------------------------------------------------------------------------


@bp.get("/admin/spot-checks")
@admin_only
def queue():
    batch_id = request.args.get("batch_id", type=db_id)
    page = paginate(
        db.session,
        queries.list_items(status="pending", batch_id=batch_id),
        order=queries.QUEUE_ORDER,
        cursor=request.args.get("cursor") or None,
        limit=PAGE_SIZE,
    )
    items = page["items"]
    checks = queries.spot_checks_for({item.batch_id for item in items})
    sellers = queries.seller_names({item.batch.seller_id for item in items})
    return render_template(
        "verification/queue.html",
        items=items,
        checks=checks,
        sellers=sellers,
        summary=queries.queue_summary(),
        batch_id=batch_id,
        next_cursor=page["next_cursor"],
        cursor=request.args.get("cursor"),
    )


def _item_page(found, form, status: int = 200):
    return render_template(
        "verification/item.html",
        item=found,
        lead=found.lead,
        batch=found.batch,
        check=queries.get_spot_check(found.batch_id),
        seller=queries.get_seller(found.batch.seller_id),
        script=call_script(found),
        form=form,
        bant_fields=list(BANT_LABELS),
        outcome_labels=OUTCOME_LABELS,
    ), status


def _item_after_refusal(form, item_id):
    # Recorded by another admin meanwhile, or the batch decided: the page shows the item now.
    return _item_page(queries.get_item(item_id), form)


@bp.route("/admin/spot-checks/<int:item_id>", methods=["GET", "POST"])
@admin_only
@form_post(SpotCheckForm, page=_item_after_refusal, category="warning")
def item(form, item_id):
    found = queries.get_item(item_id)
    if found is None:
        abort(404)
    status = 200
    if found.status == "pending" and form.validate_on_submit():
        services.record_outcome(
            actor=current_user,
            item_id=found.id,
            outcome=form.outcome.data,
            note=form.note.data,
            answers=form.answers(),
        )
        batch = market.get_batch(found.batch_id)
        flash(_recorded_message(form.outcome.data, batch), _flash_kind(batch.status))
        following = queries.next_pending_item(after_batch_id=found.batch_id)
        if following is None:
            return redirect(url_for(".queue"))
        return redirect(url_for(".item", item_id=following.id))
    if form.is_submitted() and found.status == "pending":
        status = 422
    elif form.is_submitted():
        flash(services.AlreadyRecorded.message, "warning")
    return _item_page(found, form, status)


def _recorded_message(outcome: str, batch) -> str:
    figures = batch.decision or {}
    if batch.status == "listed":
        return f"Recorded. Batch #{batch.id} passed its spot-check and is listed."
    if batch.status == "rejected":
        return f"Recorded. Batch #{batch.id} failed its spot-check and is rejected."
    return (
        f"Recorded {outcome.replace('_', ' ')}. Batch #{batch.id}: "
        f"{figures.get('inspected')} of {figures.get('sample_size')} inspected, "
        f"{figures.get('defects')} defect{'s' * (figures.get('defects') != 1)} "
        f"(rejected at {figures.get('reject_number')})."
    )


def _flash_kind(status: str) -> str:
    return {"listed": "success", "rejected": "error"}.get(status, "info")


# --- sellers (admin) -----------------------------------------------------------------------------


def _sort_args() -> tuple[str, bool]:
    sort = request.args.get("sort", "name")
    if sort not in queries.SORTABLE:
        sort = "name"
    return sort, request.args.get("dir") == "desc"


def _render_sellers(*, errors: dict | None = None, status: int = 200):
    sort, descending = _sort_args()
    return render_template(
        "verification/sellers.html",
        sellers=queries.sellers_with_quality(sort=sort, descending=descending),
        columns=SELLER_COLUMNS,
        sort=sort,
        descending=descending,
        errors=errors or {},
    ), status


@bp.get("/admin/sellers")
@admin_only
def sellers():
    return _render_sellers()


def _hold_action(form, seller_id: int, action):
    if queries.get_seller(seller_id) is None:
        abort(404)
    if not form.validate_on_submit():
        problems = [e for errors in form.errors.values() for e in errors]
        return _render_sellers(errors={seller_id: problems}, status=422)
    seller = action(actor=current_user, seller_id=seller_id, note=form.note.data)
    done = "is on hold" if action is services.hold_seller else "is no longer on hold"
    flash(f"{seller.name} {done}.", "success")
    return redirect(_back_to_sellers())


def _back_to_sellers() -> str:
    target = request.form.get("next", "")
    if target.startswith("/admin/sellers") and not target.startswith("//"):
        return target
    return url_for(".sellers")


def _back_after_refusal(form, seller_id):
    # Already on hold, or no longer: the note typed for the other state has no use; the page
    # the admin came from shows the state as it is.
    return redirect(request.referrer or url_for(".sellers"))


@bp.post("/admin/sellers/<int:seller_id>/hold")
@admin_only
@form_post(HoldForm, page=_back_after_refusal, category="warning")
def hold(form, seller_id):
    return _hold_action(form, seller_id, services.hold_seller)


@bp.post("/admin/sellers/<int:seller_id>/clear-hold")
@admin_only
@form_post(HoldForm, page=_back_after_refusal, category="warning")
def clear_hold(form, seller_id):
    return _hold_action(form, seller_id, services.clear_hold)


@bp.get("/admin/sellers/<int:seller_id>")
@admin_only
def seller_detail(seller_id):
    seller = queries.get_seller(seller_id)
    if seller is None:
        abort(404)
    return _render_quality(seller)


# --- quality pages -------------------------------------------------------------------------------


@bp.get("/seller/quality")
@seller_only
def seller_quality():
    return _render_quality(current_user.organization)


@bp.get("/sellers/<int:seller_id>")
@login_required
def public_seller_quality(seller_id):
    """A seller's figures as every signed-in account may see them (the market's seller badge):
    no inspection records, hold reason or hold form, which are the seller's and the admins'."""
    seller = queries.get_seller(seller_id)
    if seller is None:
        abort(404)
    return _render_quality(seller, public=True)


def _render_quality(seller, *, public: bool = False):
    figures = queries.seller_quality(seller.id)
    counts = queries.seller_counts(seller.id)
    weeks = queries.weekly_rates(seller.id)
    return render_template(
        "verification/quality.html",
        seller=seller,
        public=public,
        figures=figures,
        counts=counts,
        recent_counts=queries.seller_counts(seller.id, since=_window_start()),
        rate_rows=RATE_ROWS,
        chart=weekly_chart(weeks),
        weeks=weeks,
        records=None if public else queries.inspection_records(seller.id),
        account=None if public else market.get_seller_accounts([seller.id]).get(seller.id),
        hold_form=HoldForm() if current_user.is_admin and not public else None,
    )


def _window_start():
    return utcnow() - timedelta(days=queries.WINDOW_DAYS)


# Other sampling fractions shown beside the platform's, at its AOQL.
STREAM_FRACTIONS = (0.02, 0.05, 0.1, 0.2, 0.5)


@bp.get("/quality")
def about_quality():
    """Public: how spot-checks sample batches, how live streams are sampled (CSP-1) and how
    the quality score is computed."""
    aql = get_settings().aql
    stream_plan = market_services.plan_settings()
    plans = []
    for low, high, letter in CODE_LETTERS_LEVEL_II:
        lot = high if high is not None else low
        plans.append(
            {
                "low": low,
                "high": high,
                "letter": letter,
                **{level: plan_for(lot, aql=aql, inspection=level) for level in INSPECTIONS},
            }
        )
    return render_template(
        "verification/about.html",
        aql=aql,
        plans=plans,
        formula=QUALITY_SCORE_FORMULA,
        weights=QUALITY_WEIGHTS,
        rules={
            "window": NORMAL_WINDOW,
            "to_tighten": REJECTIONS_TO_TIGHTEN,
            "to_relax": ACCEPTED_TO_RELAX,
            "to_reduce": ACCEPTED_TO_REDUCE,
            "to_hold": REJECTIONS_TO_HOLD,
        },
        upheld_limit=get_settings().upheld_dispute_limit_pct,
        outcome_labels=OUTCOME_LABELS,
        stream_plan=stream_plan,
        stream_alternatives=[
            (f, csp.clearance_number(f=f, aoql_pct=stream_plan["aoql_pct"]))
            for f in STREAM_FRACTIONS
        ],
    )


# --- platform settings (admin) -------------------------------------------------------------------


def _settings_page(form, status: int = 200):
    return render_template("verification/settings.html", form=form), status


def _settings_after_refusal(form):
    # update_settings refused a value: the form as typed, the refusal beside its field.
    return _settings_page(form, 422)


@bp.route("/admin/settings", methods=["GET", "POST"])
@admin_only
@form_post(SettingsForm, page=_settings_after_refusal)
def platform_settings(form):
    if form.validate_on_submit():
        update_settings(actor=current_user, changes=form.changes())
        flash("Settings saved.", "success")
        return redirect(url_for(".platform_settings"))
    if form.is_submitted():
        return _settings_page(form, 422)
    form.process(data=settings_dict())
    return _settings_page(form)


# --- the weekly chart, drawn on the server as SVG ------------------------------------------------


def weekly_chart(weeks: list[dict]) -> dict:
    """The quality page's chart of weekly rates; a week without data leaves a gap in its line."""
    return line_chart(
        [f"{w['week']:%d %b}" for w in weeks],
        [Series(key, label, [w[key] for w in weeks], css=css) for key, label, css in CHART_SERIES],
        titles=[f"week of {w['week']:%d %b}" for w in weeks],
    )


# --- navigation and dashboard --------------------------------------------------------------------


def queue_card(user):
    summary = queries.queue_summary()
    body = (
        f"{summary['items']:,} sampled lead{'s' * (summary['items'] != 1)} to call "
        f"in {summary['batches']:,} batch{'es' * (summary['batches'] != 1)}"
    )
    return ("Spot-checks", body, url_for("verification.queue"))


def sellers_card(user):
    rows = queries.hold_summary()
    body = f"{rows['sellers']:,} sellers, {rows['on_hold']:,} on hold"
    return ("Sellers", body, url_for("verification.sellers"))


def quality_card(user):
    figures = queries.seller_quality(user.organization_id)
    body = f"Quality score {figures['quality_score']} · {figures['inspection_level']} inspection"
    if figures["status"] == "on_hold":
        body += " · on hold"
    return ("Quality", body, url_for("verification.seller_quality"))


def buyer_quality_card(user):
    return (
        "Seller quality",
        "Every batch is sampled by a person before it is sold. See how sellers are scored.",
        url_for("verification.about_quality"),
    )


def register_navigation(app) -> None:
    register_nav(app, "admin", "Spot-checks", "verification.queue")
    register_nav(app, "admin", "Sellers", "verification.sellers")
    register_nav(app, "admin", "Settings", "verification.platform_settings")
    register_nav(app, "seller", "Quality", "verification.seller_quality")
    register_card(app, "admin", queue_card)
    register_card(app, "admin", sellers_card)
    register_card(app, "seller", quality_card)
    register_card(app, "buyer", buyer_quality_card)
