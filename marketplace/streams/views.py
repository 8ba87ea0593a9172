"""Web pages of a seller's streams: the list with a form to open one, a stream with its live
counters, its sampling plan and history and a curl example of ping and post; pause and resume."""

from __future__ import annotations

import json

from flask import flash, jsonify, redirect, render_template, url_for
from flask_login import current_user

from app.auth.decorators import role_required, seller_only
from app.extensions import db
from app.web.forms import form_post
from app.web.paging import page_of
from app.web.registry import register_card, register_nav
from marketplace import verticals
from marketplace.blueprints import web_bp as bp
from marketplace.streams import services
from marketplace.streams.forms import StreamForm
from marketplace.streams.models import Stream
from marketplace.streams.schemas import StreamSchema

PAGE_SIZE = 25
HISTORY = 50

seller_or_admin = role_required("seller", "admin")


def _with_verticals(form: StreamForm) -> StreamForm:
    form.set_verticals(db.session.scalars(verticals.list_verticals()))
    return form


def _streams_page(form: StreamForm, *, status: int = 200):
    page = page_of(
        services.list_streams(actor=current_user),
        order=[(Stream.id, True)],
        endpoint=".streams",
        limit=PAGE_SIZE,
    )
    return render_template(
        "marketplace/streams/streams.html",
        streams=[services.describe_stream(stream) for stream in page["items"]],
        form=_with_verticals(form),
        next_url=page["next_url"],
        first_url=page["first_url"],
    ), status


@bp.get("/seller/streams")
@seller_only
def streams():
    return _streams_page(StreamForm(formdata=None))


@bp.post("/seller/streams")
@seller_only
@form_post(
    StreamForm,
    page=lambda form: _streams_page(form, status=422),
    fields={"price_cents": "price"},
)
def create_stream(form):
    if not _with_verticals(form).validate_on_submit():
        return _streams_page(form, status=422)
    stream = services.create_stream(
        seller=current_user,
        vertical=form.vertical.data,
        name=form.name.data.strip(),
        price_cents=form.price_cents,
        max_sales=form.max_sales.data,
    )
    flash(f"Stream “{stream.batch.name}” opened: it screens its first leads.", "success")
    return redirect(url_for(".stream", stream_id=stream.id))


def _curl(url: str, body: dict, *headers: str) -> str:
    lines = [f"curl -X POST '{url}'", '-H "Authorization: Bearer $LEADEX_TOKEN"']
    lines += [*headers, "-H 'Content-Type: application/json'", f"-d '{json.dumps(body)}'"]
    return " \\\n  ".join(lines)


@bp.get("/seller/streams/<int:stream_id>")
@seller_or_admin
def stream(stream_id):
    found = services.get_stream(actor=current_user, stream_id=stream_id)
    lead = services.example_lead(found)
    ping = {key: value for key, value in lead.items() if key not in services.CONTACT_FIELDS}
    ping_url = url_for("market.ping_stream", stream_id=found.id, _external=True)
    post_url = url_for("market.post_lead", stream_id=found.id, _external=True)
    events = db.session.scalars(
        services.list_events(stream_id=found.id, newest_first=True).limit(HISTORY)
    ).all()
    return render_template(
        "marketplace/streams/stream.html",
        stream=found,
        view=services.describe_stream(found),
        plan=services.describe_plan(found),
        events=events,
        ping_curl=_curl(ping_url, ping),
        post_curl=_curl(post_url, lead, '-H "Idempotency-Key: $(uuidgen)"'),
    )


@bp.get("/seller/streams/<int:stream_id>/status.json")
@seller_or_admin
def stream_status(stream_id):
    found = services.get_stream(actor=current_user, stream_id=stream_id)
    response = jsonify(StreamSchema().dump(services.describe_stream(found)))
    response.headers["Cache-Control"] = "no-store"
    return response


def _back_to_stream(form, stream_id, **_args):
    return redirect(url_for(".stream", stream_id=stream_id))


@bp.post("/seller/streams/<int:stream_id>/pause", defaults={"action": "pause"})
@bp.post("/seller/streams/<int:stream_id>/resume", defaults={"action": "resume"})
@seller_or_admin
@form_post(None, page=_back_to_stream)
def set_stream_status(stream_id, action):
    status = "paused" if action == "pause" else "active"
    found = services.update_stream(actor=current_user, stream_id=stream_id, status=status)
    done = "paused" if status == "paused" else "resumed"
    flash(f"Stream “{found.batch.name}” {done}.", "success")
    return _back_to_stream(None, stream_id)


# --- navigation and dashboard --------------------------------------------------------------------


def streams_card(user):
    """The seller dashboard's card: streams taking leads, paused, and any the plan paused."""
    counts = services.count_streams(seller_id=user.organization_id)
    link = url_for("marketplace.streams")
    if not counts["active"] and not counts["paused"]:
        return ("Streams", "No stream yet: post single leads live, by ping and post.", link)
    body = f"{counts['active']:,} active, {counts['paused']:,} paused"
    if counts["paused_by_plan"]:
        body += f" ({counts['paused_by_plan']:,} by the sampling plan, for an admin to review)"
    return ("Streams", body, link)


def register_navigation(app) -> None:
    register_nav(app, "seller", "Streams", "marketplace.streams")
    register_card(app, "seller", streams_card)
