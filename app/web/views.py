"""Landing page and the dashboard of each role."""

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user, login_required

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


@bp.get("/healthz")
def healthz():
    return {"status": "ok"}
