"""Web pages of billing: the buyer's billing page, the seller's earnings, the admin's money page.

Form posts call one service each and come back to the page with a message. The errors a person
can act on (a declined card, an amount too high) are shown on the form by ``app.web.forms``:
money forms draw their page again with the amount as typed; the per-row admin form and card
removal, with nothing typed worth keeping, go back to their page.
"""

from __future__ import annotations

from decimal import Decimal

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user

from app.api import paginate
from app.auth.decorators import admin_only, buyer_only, seller_only
from app.csvutil import csv_response
from app.extensions import db
from app.money import dollars, to_cents
from app.web.forms import flash_field_errors, form_post, redirect_to
from app.web.registry import register_card, register_nav
from billing import queries, services
from billing.errors import JsonObjectExpected
from billing.forms import (
    AutoRechargeForm,
    MarkPaidForm,
    PayoutDetailsForm,
    PayoutForm,
    ReconcileForm,
    RefundForm,
    TopUpForm,
)
from billing.models import LedgerEntry
from billing.reconcile import reconcile
from billing.stripe_gateway import GatewayError

bp = Blueprint(
    "billing",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/billing/static",
)

PAGE_SIZE = 25
RECENT_TOP_UPS = 10
RECENT_REFUNDS = 5
RECENT_PAYOUTS = 20

# The services name amounts in cents; the forms take them in dollars.
AMOUNT_FIELDS = {"amount_cents": "amount", "threshold_cents": "threshold"}
# A money form sent again with another amount (the back button, then a changed value).
MONEY_FORM_MESSAGES = {
    "idempotency_key_reused": "That form was already sent with another amount; "
    "check the amount and send it again.",
}


def _entries(organization_id: int | None) -> dict:
    page = paginate(
        db.session,
        queries.list_entries(organization_id=organization_id),
        order=[(LedgerEntry.id, True)],
        cursor=request.args.get("cursor") or None,
        limit=PAGE_SIZE,
    )
    page["items"] = [queries.describe_entry(e) for e in page["items"]]
    return page


def _stripe_js_url() -> str:
    base = current_app.config.get("STRIPE_API_BASE")
    # The local Stripe server serves a stand-in for Stripe.js, so the page works offline.
    return f"{base.rstrip('/')}/js.stripe.com/v3/" if base else "https://js.stripe.com/v3/"


# --- the buyer's billing page ----------------------------------------------------------------


def _buyer_page(*, top_up_form=None, auto_form=None, refund_form=None):
    """The billing page; a form that was posted and refused is drawn as it was sent.

    The others are drawn fresh (``formdata=None``): they must not pick up the posted fields.
    """
    org = current_user.organization_id
    wallet = queries.get_wallet(org)
    if auto_form is None:
        setting = queries.get_auto_recharge(org)
        auto_form = AutoRechargeForm(
            formdata=None,
            data={
                "enabled": wallet["auto_recharge"]["enabled"],
                "threshold": Decimal(setting.threshold_cents if setting else 2_000) / 100,
                "amount": Decimal(setting.amount_cents if setting else 10_000) / 100,
            },
        )
    cards = queries.get_cards(org)
    return render_template(
        "billing/buyer.html",
        wallet=wallet,
        cards=cards,
        default_card=next((c for c in cards if c.is_default), None),
        top_ups=queries.get_recent_top_ups(org, limit=RECENT_TOP_UPS),
        refunds=queries.get_recent_refunds(org, limit=RECENT_REFUNDS),
        refundable=queries.get_refundable_cents(org),
        entries=_entries(org),
        top_up_form=top_up_form if top_up_form is not None else TopUpForm(formdata=None),
        auto_form=auto_form,
        refund_form=refund_form if refund_form is not None else RefundForm(formdata=None),
        stripe_js_url=_stripe_js_url(),
        publishable_key=current_app.config.get("STRIPE_PUBLISHABLE_KEY") or "",
    )


@bp.get("/billing")
@buyer_only
def buyer_billing():
    return _buyer_page()


@bp.post("/billing/cards/setup")
@buyer_only
def card_setup():
    """A SetupIntent's client secret for Stripe.js ``confirmCardSetup`` (JSON)."""
    intent = services.create_card_setup(buyer_org_id=current_user.organization_id)
    return jsonify({"client_secret": intent["client_secret"]})


@bp.post("/billing/cards")
@buyer_only
def add_card():
    """Attach the card confirmed by Stripe.js: the local Stripe server's SetupIntent does not
    attach it, so we do, for both servers alike (JSON)."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise JsonObjectExpected('Send a JSON object such as {"payment_method": "pm_..."}.')
    card = services.add_payment_method(
        buyer_org_id=current_user.organization_id,
        payment_method=body.get("payment_method"),
        actor=current_user,
    )
    flash(
        f"Card {card.brand.title()} •••• {card.last4} saved; it is your default card.", "success"
    )
    return jsonify(
        {
            "id": card.stripe_payment_method_id,
            "brand": card.brand,
            "last4": card.last4,
            "is_default": card.is_default,
        }
    ), 201


@bp.post("/billing/cards/<payment_method_id>/remove")
@buyer_only
@form_post(None, page=redirect_to(".buyer_billing"))
def remove_card(payment_method_id):
    services.remove_payment_method(
        buyer_org_id=current_user.organization_id,
        payment_method_id=payment_method_id,
        actor=current_user,
    )
    flash("Card removed.", "success")
    return redirect(url_for(".buyer_billing"))


@bp.post("/billing/top-up")
@buyer_only
@form_post(
    TopUpForm,
    page=lambda form: _buyer_page(top_up_form=form),
    fields=AMOUNT_FIELDS,
    messages=MONEY_FORM_MESSAGES,
)
def top_up(form):
    if not form.validate_on_submit():
        flash_field_errors(form)
        return redirect(url_for(".buyer_billing"))
    result = services.create_top_up(
        buyer_org_id=current_user.organization_id,
        amount_cents=to_cents(form.amount.data),
        idempotency_key=f"web:{form.request_id.data}",
    )
    if result.status == "succeeded":
        flash(f"{dollars(result.amount_cents)} added to your wallet.", "success")
    else:
        flash(f"Your top-up of {dollars(result.amount_cents)} is being confirmed.", "info")
    return redirect(url_for(".buyer_billing"))


@bp.post("/billing/auto-recharge")
@buyer_only
@form_post(AutoRechargeForm, page=lambda form: _buyer_page(auto_form=form), fields=AMOUNT_FIELDS)
def auto_recharge(form):
    if not form.validate_on_submit():
        flash_field_errors(form)
        return redirect(url_for(".buyer_billing"))
    services.set_auto_recharge(
        buyer_org_id=current_user.organization_id,
        is_enabled=form.enabled.data,
        threshold_cents=to_cents(form.threshold.data),
        amount_cents=to_cents(form.amount.data),
        actor=current_user,
    )
    flash("Auto-recharge " + ("is on." if form.enabled.data else "is off."), "success")
    return redirect(url_for(".buyer_billing"))


@bp.post("/billing/refund")
@buyer_only
@form_post(
    RefundForm,
    page=lambda form: _buyer_page(refund_form=form),
    fields=AMOUNT_FIELDS,
    messages=MONEY_FORM_MESSAGES,
)
def refund(form):
    if not form.validate_on_submit():
        flash_field_errors(form)
        return redirect(url_for(".buyer_billing"))
    result = services.refund_wallet(
        buyer_org_id=current_user.organization_id,
        amount_cents=to_cents(form.amount.data),
        idempotency_key=f"web:{form.request_id.data}",
    )
    messages = {
        "succeeded": ("success", "is on its way back to your card."),
        "pending": ("info", "is being refunded to your card."),
        "partially_failed": ("warning", "was partly refunded; the rest is back in your wallet."),
        "failed": ("error", "could not be refunded; it is back in your wallet."),
    }
    category, text = messages[result.status]
    flash(f"{dollars(result.amount_cents)} {text}", category)
    return redirect(url_for(".buyer_billing"))


@bp.get("/billing/receipts.csv")
@buyer_only
def receipts():
    return csv_response(
        ["date", "kind", "number", "amount", "currency", "card", "stripe_reference"],
        queries.list_receipts(current_user.organization_id),
        "leadex-receipts.csv",
    )


# --- the seller's earnings page --------------------------------------------------------------


def _earnings_page(*, details_form=None, payout_form=None):
    """The earnings page; a refused form is drawn as it was sent, the other one fresh."""
    org = current_user.organization_id
    details = queries.get_payout_details(org)
    if details_form is None:
        details_form = PayoutDetailsForm(
            formdata=None, data={"bank_details": details.details if details else ""}
        )
    return render_template(
        "billing/earnings.html",
        earnings=queries.get_earnings(org),
        details=details,
        details_form=details_form,
        payout_form=payout_form if payout_form is not None else PayoutForm(formdata=None),
        payouts=queries.get_recent_payouts(org, limit=RECENT_PAYOUTS),
        entries=_entries(org),
    )


@bp.get("/billing/earnings")
@seller_only
def earnings():
    return _earnings_page()


@bp.post("/billing/payout-details")
@seller_only
@form_post(PayoutDetailsForm, page=lambda form: _earnings_page(details_form=form))
def payout_details(form):
    if not form.validate_on_submit():
        flash_field_errors(form)
    else:
        services.save_payout_details(
            seller_org_id=current_user.organization_id,
            details=form.bank_details.data,
            actor=current_user,
        )
        flash("Your payout details are saved.", "success")
    return redirect(url_for(".earnings"))


@bp.post("/billing/payouts")
@seller_only
@form_post(
    PayoutForm,
    page=lambda form: _earnings_page(payout_form=form),
    fields=AMOUNT_FIELDS,
    messages=MONEY_FORM_MESSAGES,
)
def request_payout(form):
    if not form.validate_on_submit():
        flash_field_errors(form)
        return redirect(url_for(".earnings"))
    payout = services.request_payout(
        seller_org_id=current_user.organization_id,
        amount_cents=to_cents(form.amount.data) if form.amount.data is not None else None,
        idempotency_key=f"web:{form.request_id.data}",
        actor=current_user,
    )
    flash(f"Payout of {dollars(payout.amount_cents)} requested.", "success")
    return redirect(url_for(".earnings"))


# --- the admin's money page ------------------------------------------------------------------


def _money_page(reconcile_result=None, reconcile_error=None, status=200):
    return render_template(
        "billing/admin_money.html",
        totals=queries.get_platform_totals(),
        requested=queries.get_payouts_with_seller_names("requested"),
        paid=queries.get_payouts_with_seller_names("paid", limit=10),
        mark_paid_form=MarkPaidForm(),
        reconcile_form=ReconcileForm(),
        reconcile_result=reconcile_result,
        reconcile_error=reconcile_error,
    ), status


@bp.get("/admin/money")
@admin_only
def admin_money():
    return _money_page()


@bp.post("/admin/payouts/<int:payout_id>/paid")
@admin_only
@form_post(MarkPaidForm, page=redirect_to(".admin_money"))
def admin_mark_paid(form, payout_id):
    if not form.validate_on_submit():
        flash_field_errors(form)
        return redirect(url_for(".admin_money"))
    payout = services.mark_payout_paid(
        payout_id=payout_id, reference=form.reference.data, actor=current_user
    )
    flash(f"Payout {payout.id} of {dollars(payout.amount_cents)} marked paid.", "success")
    return redirect(url_for(".admin_money"))


@bp.post("/admin/money/reconcile")
@admin_only
def admin_reconcile():
    form = ReconcileForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        result = reconcile(fix=form.fix.data)
    except GatewayError as exc:
        # Not an AppError: reconcile reports Stripe's silence in its own section of the page.
        return _money_page(reconcile_error=exc.message)
    return _money_page(reconcile_result=result)


# --- navigation and dashboard cards ----------------------------------------------------------


def _buyer_card(user):
    wallet = queries.get_wallet(user.organization_id)
    body = f"Balance {dollars(wallet['balance_cents'])}"
    if wallet["auto_recharge"]["enabled"]:
        body += " · auto-recharge on"
    elif wallet["auto_recharge"]["disabled_reason"]:
        body += " · auto-recharge turned off"
    return ("Wallet", body, url_for("billing.buyer_billing"))


def _seller_card(user):
    figures = queries.get_earnings(user.organization_id)
    return (
        "Earnings",
        f"{dollars(figures['available_cents'])} available · "
        f"{dollars(figures['pending_cents'])} pending",
        url_for("billing.earnings"),
    )


def _admin_card(user):
    totals = queries.get_platform_totals()
    waiting = queries.count_payouts(status="requested")
    return (
        "Money",
        f"Platform revenue {dollars(totals['platform_revenue_cents'])} · "
        f"{waiting} payout(s) to pay",
        url_for("billing.admin_money"),
    )


def register_navigation(app) -> None:
    register_nav(app, "buyer", "Billing", "billing.buyer_billing")
    register_nav(app, "seller", "Earnings", "billing.earnings")
    register_nav(app, "admin", "Money", "billing.admin_money")
    register_card(app, "buyer", _buyer_card)
    register_card(app, "seller", _seller_card)
    register_card(app, "admin", _admin_card)
