"""Landing page and the dashboard of each role."""

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user, login_required

from app.money import dollars

bp = Blueprint("web", __name__)

# Later packages add their pages to the navigation: role -> [(label, endpoint)].
NAV_LINKS: dict[str, list[tuple[str, str]]] = {"seller": [], "buyer": [], "admin": []}

# Later packages add cards to a role's dashboard: role -> list of callables returning
# (title, body_html_or_text, link) tuples, rendered in order.
DASHBOARD_CARDS: dict[str, list] = {"seller": [], "buyer": [], "admin": []}


@bp.app_template_filter("dollars")
def dollars_filter(cents) -> str:
    return dollars(cents)


@bp.app_context_processor
def navigation():
    return {"nav_links": lambda role: NAV_LINKS.get(role, [])}


@bp.get("/")
def index():
    if current_user.is_authenticated:
        return redirect(url_for("web.dashboard"))
    return render_template("index.html")


@bp.get("/dashboard")
@login_required
def dashboard():
    role = current_user.role
    cards = [card(current_user) for card in DASHBOARD_CARDS.get(role, [])]
    return render_template(f"dashboard/{role}.html", cards=[c for c in cards if c])


@bp.get("/healthz")
def healthz():
    return {"status": "ok"}
