"""Web page of delivery: the buyer's webhook URL, its secret (shown once), the attempts."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_login import current_user

from app.auth.decorators import buyer_only
from app.web.forms import form_post, redirect_to
from app.web.paging import page_of
from app.web.registry import register_nav
from marketplace.blueprints import web_bp as bp
from marketplace.delivery import services
from marketplace.delivery.forms import DeliveryForm
from marketplace.delivery.models import DeliveryAttempt

PAGE_SIZE = 25


def _delivery_page(form: DeliveryForm | None = None, *, secret: str | None = None, status=200):
    """The page. ``secret`` is shown only in the answer to the post that made it: it is in no
    session, flash or later page, so a reload never shows it again."""
    endpoint = services.get_endpoint(buyer=current_user)
    if form is None:
        form = DeliveryForm(formdata=None, data=endpoint if endpoint["url"] else None)
    page = page_of(
        services.attempts_query(buyer=current_user),
        order=[(DeliveryAttempt.id, True)],
        endpoint=".buyer_delivery",
        limit=PAGE_SIZE,
    )
    response = render_template(
        "marketplace/delivery/delivery.html",
        form=form,
        endpoint=endpoint,
        secret=secret,
        attempts=page["items"],
        next_url=page["next_url"],
        first_url=page["first_url"],
    )
    # Never kept by a browser or proxy: the page may carry the secret.
    return response, status, {"Cache-Control": "no-store"}


@bp.get("/buyer/delivery")
@buyer_only
def buyer_delivery():
    return _delivery_page()


@bp.post("/buyer/delivery")
@buyer_only
@form_post(DeliveryForm, page=lambda form: _delivery_page(form, status=422))
def set_delivery(form):
    """PUT /api/v1/delivery as a form: the whole setting anew."""
    if not form.validate_on_submit():
        return _delivery_page(form, status=422)
    answer = services.set_endpoint(
        buyer=current_user, url=form.url.data.strip(), active=form.active.data
    )
    if answer.get("secret"):
        flash("Delivery URL saved. Copy your signing secret now: it is shown once.", "success")
        return _delivery_page(secret=answer["secret"])
    flash("Delivery URL saved.", "success")
    return redirect(url_for(".buyer_delivery"))


@bp.post("/buyer/delivery/secret")
@buyer_only
@form_post(None, page=redirect_to(".buyer_delivery"))
def rotate_delivery_secret():
    answer = services.rotate_secret(buyer=current_user)
    flash("A new signing secret replaces the old one. Copy it now: it is shown once.", "success")
    return _delivery_page(secret=answer["secret"])


@bp.post("/buyer/delivery/attempts/<int:attempt_id>/resend")
@buyer_only
@form_post(None, page=redirect_to(".buyer_delivery"))
def resend_delivery(attempt_id):
    attempt = services.resend(buyer=current_user, attempt_id=attempt_id)
    flash(f"Lead #{attempt.lead_id} is being sent again.", "success")
    return redirect(url_for(".buyer_delivery"))


def register_navigation(app) -> None:
    register_nav(app, "buyer", "Delivery", "marketplace.buyer_delivery")
