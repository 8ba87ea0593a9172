"""Landing page, the dashboard of each role, and the organisation's notifications."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from app import notifications
from app.api import paginate
from app.extensions import db
from app.web import init_app
from app.web.registry import dashboard_cards

bp = Blueprint("web", __name__)
# The blueprint is how create_app brings in the web layer: its filters, navigation and registry.
bp.record_once(lambda state: init_app(state.app))


@bp.get("/")
def index():
    if current_user.is_authenticated:
        return redirect(url_for("web.dashboard"))
    return render_template("index.html")


@bp.get("/dashboard")
@login_required
def dashboard():
    role = current_user.role
    cards = [card(current_user) for card in dashboard_cards(role)]
    return render_template(f"dashboard/{role}.html", cards=[c for c in cards if c])


NOTIFICATIONS_PAGE_SIZE = 30


@bp.get("/notifications")
@login_required
def notifications_page():
    cursor = request.args.get("cursor") or None
    page = paginate(
        db.session,
        notifications.list_notifications(current_user.organization_id),
        order=notifications.ORDER,
        cursor=cursor,
        limit=NOTIFICATIONS_PAGE_SIZE,
    )
    return render_template(
        "notifications.html",
        items=page["items"],
        next_cursor=page["next_cursor"],
        cursor=cursor,
    )


@bp.post("/notifications/read")
@login_required
def mark_all_read():
    marked = notifications.mark_read(organization_id=current_user.organization_id)
    flash(f"Marked {marked} notification{'s' * (marked != 1)} read.", "success")
    return redirect(url_for(".notifications_page"))


@bp.post("/notifications/<int:notification_id>/read")
@login_required
def mark_one_read(notification_id):
    notifications.mark_read(
        organization_id=current_user.organization_id, notification_id=notification_id
    )
    return redirect(url_for(".notifications_page", cursor=request.form.get("cursor") or None))


@bp.get("/healthz")
def healthz():
    return {"status": "ok"}
