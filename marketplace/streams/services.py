"""Streams' use cases: open and change a stream, ping, post a lead, apply an inspection outcome.

A post runs intake's own steps on one row: ``check_chunk`` (the row checks and derivation of a
file's rows, with the same context), then ``store_chunk`` under intake's lock (de-duplication
against everything, the insert, the batch's counters), so a post and an overlapping intake or
another post never both accept one person. Then the CSP-1 plan decides: inspection (the
``stream_lead_inspection`` signal, inside the transaction, lets verification queue the item)
or listing; a listed lead is offered after commit to the order its ping held, then to every
standing order by auto-buy's fairness rule, and purchases queue delivery as they commit.

Rejections and duplicates are committed (they count in the stream's and seller's figures)
before the 422 or 409 is raised.
"""

from __future__ import annotations

import logging
import re
import secrets
from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select, update

from app.auth.models import User
from app.config import configured_callable
from app.db import after_commit, transaction, utcnow
from app.errors import Conflict, Invalid, NotFound
from app.extensions import db
from app.notifications import notify
from app.settings import get_settings
from marketplace.autobuy import services as autobuy
from marketplace.autobuy.models import AutobuyRun
from marketplace.intake.rows import LeadRowFormat, check_chunk
from marketplace.intake.store import insert_leads, lock_intakes, store_chunk, suppression_sets
from marketplace.listings.queries import expires_at_of
from marketplace.models import Batch, BatchRejection, Lead
from marketplace.signals import stream_lead_inspection
from marketplace.standing import seller_account
from marketplace.streams.models import (
    STREAM_SOURCE_FORMAT,
    Stream,
    StreamEvent,
    StreamPing,
)
from marketplace.verticals import get_vertical
from verification.rules import csp
from verification.rules.checks import CheckContext
from verification.rules.columns import HEADER_JUNK, LEAD_COLUMNS, canonical_header

logger = logging.getLogger(__name__)

CONTACT_FIELDS = ("first_name", "last_name", "email", "phone", "address")
# Stand-ins for the contact a ping lacks, so its values pass the checks and can be matched.
_PING_CONTACT = {"first_name": "Ping", "last_name": "Ping", "email": "leadex.ping@gmail.com"}


class StreamPaused(Conflict):
    code = "stream_paused"
    message = "The stream is paused."


class SellerOnHold(Conflict):
    code = "seller_on_hold"
    message = "The seller is on hold; no lead is accepted until it is cleared."


class PausedByPlan(Conflict):
    code = "paused_by_plan"
    message = "The sampling plan paused this stream; only an admin resumes it."


class ContactInPing(Invalid):
    code = "contact_in_ping"
    message = "A ping carries no contact: no first_name, last_name, email, phone or address."


class InvalidPing(Invalid):
    code = "invalid_ping"
    message = "No such ping for this stream."


class LeadRejected(Invalid):
    code = "lead_rejected"
    message = "The lead failed the checks."


class DuplicateLead(Conflict):
    code = "duplicate"
    message = "This person is already on Leadex."


# --- the plan's settings ------------------------------------------------------------------------


def plan_settings() -> dict:
    """The streams' plan from the platform settings: f, i, the screening limit, the AOQL
    target (``aoql_pct``) and what the plan gives (``plan_aoql_pct``), both in percent."""
    settings = get_settings()
    f, target = settings.stream_sampling_fraction, settings.stream_aoql_pct
    clearance = csp.clearance_number(f=f, aoql_pct=target)
    limit = csp.screening_limit(clearance=clearance, setting=settings.stream_screening_limit)
    return {
        "sampling_fraction": f,
        "clearance_number": clearance,
        "screening_limit": limit,
        "aoql_pct": target,
        "plan_aoql_pct": csp.plan_aoql_pct(f=f, aoql_pct=target),
    }


def _draw_seed() -> str:
    return str(current_app.config.get("STREAM_DRAW_SEED") or current_app.config["SECRET_KEY"])


# --- streams -------------------------------------------------------------------------------------


def create_stream(
    *, seller: User, vertical: str, name: str, price_cents: int, max_sales: int = 1
) -> Stream:
    """A stream and its batch-like row (listed, so its leads are visible as they list)."""
    with transaction() as session:
        found = get_vertical(vertical)
        batch = Batch(
            seller_id=seller.organization_id,
            created_by_id=seller.id,
            vertical_id=found.id,
            name=name,
            price_cents=price_cents,
            max_sales=max_sales,
            status="listed",
            source_format=STREAM_SOURCE_FORMAT,
            total_rows=0,
            processed_rows=0,
            accepted_count=0,
            rejected_count=0,
            duplicate_count=0,
            created_at=utcnow(),
        )
        session.add(batch)
        session.flush()
        # Each lead is offered to standing orders as it lists; the batch sweep never runs.
        session.add(AutobuyRun(batch_id=batch.id, done_at=utcnow()))
        stream = Stream(
            seller_id=seller.organization_id,
            batch_id=batch.id,
            status="active",
            mode="screening",
            conforming_run=0,
            screened=0,
            created_at=utcnow(),
        )
        session.add(stream)
        session.flush()
        _event(stream, "screening", "stream opened")
    return stream


def list_streams(*, actor: User):
    stmt = select(Stream)
    if actor.role != "admin":
        stmt = stmt.where(Stream.seller_id == actor.organization_id)
    return stmt


def get_stream(*, actor: User, stream_id: int, admin_too: bool = True) -> Stream:
    """The seller's own stream (or any, for an admin); another's is 404."""
    stream = db.session.get(Stream, stream_id)
    if stream is None:
        raise NotFound("No such stream.")
    if actor.role == "admin" and admin_too:
        return stream
    if stream.seller_id != actor.organization_id:
        raise NotFound("No such stream.")
    return stream


def update_stream(
    *, actor: User, stream_id: int, price_cents: int | None = None, status: str | None = None
) -> Stream:
    """The seller changes its price or pauses and resumes; only an admin resumes a stream the
    plan paused (it starts screening again)."""
    with transaction() as session:
        stream = _lock_stream(get_stream(actor=actor, stream_id=stream_id).id)
        if price_cents is not None:
            stream.batch.price_cents = price_cents
        if status == "paused" and stream.status != "paused":
            stream.status, stream.paused_by = "paused", "seller"
            _event(stream, "paused", "paused by the seller", actor=actor)
        elif status == "active" and stream.status == "paused":
            if stream.paused_by == "plan":
                if actor.role != "admin":
                    raise PausedByPlan()
                state = csp.resumed()
                stream.mode, stream.conforming_run, stream.screened = (
                    state.mode,
                    state.conforming_run,
                    state.screened,
                )
                _event(stream, "screening", "resumed by an admin: screening again", actor=actor)
            else:
                _event(stream, "resumed", "resumed", actor=actor)
            stream.status, stream.paused_by = "active", None
        session.flush()
    return stream


def stream_counts(stream: Stream) -> dict:
    by_status = dict(
        db.session.execute(
            select(Lead.status, func.count())
            .where(Lead.batch_id == stream.batch_id)
            .group_by(Lead.status)
        ).all()
    )
    sold = db.session.scalar(
        select(func.count()).where(Lead.batch_id == stream.batch_id, Lead.sales_count > 0)
    )
    batch = stream.batch
    return {
        "posted": batch.processed_rows,
        "rejected": batch.rejected_count,
        "duplicates": batch.duplicate_count,
        "inspection": by_status.get("pending", 0),
        "listed": by_status.get("listed", 0),
        "sold": sold,
    }


def describe_stream(stream: Stream) -> dict:
    plan = plan_settings()
    batch = stream.batch
    return {
        "id": stream.id,
        "vertical": batch.vertical.slug,
        "name": batch.name,
        "price_cents": batch.price_cents,
        "currency": batch.currency,
        "max_sales": batch.max_sales,
        "status": stream.status,
        "paused_by": stream.paused_by,
        "inspection": {
            "mode": stream.mode,
            "clearance_number": plan["clearance_number"],
            "sampling_fraction": plan["sampling_fraction"],
            "conforming_run": stream.conforming_run,
        },
        "counts": stream_counts(stream),
        "created_at": stream.created_at,
    }


def describe_plan(stream: Stream) -> dict:
    """The stream's plan for its page: the mode, the run toward i and the leads screened
    toward the pause, beside the platform's plan (``plan_settings``)."""
    plan = plan_settings()
    return plan | {
        "mode": stream.mode,
        "conforming_run": stream.conforming_run,
        "screened": stream.screened,
        "progress_pct": min(100, 100 * stream.conforming_run // plan["clearance_number"]),
    }


# The example lead of a stream's page: every column intake requires, made up but valid.
_EXAMPLE_LEAD = {
    "first_name": "Maria",
    "last_name": "Lopez",
    "email": "maria.lopez@example.com",
    "phone": "+1 415 555 0134",
    "country": "US",
    "postal_code": "94103",
    "city": "San Francisco",
    "address": "350 Mission St",
    "consent_text": "I agree to be contacted about quotes.",
    "consent_ip": "203.0.113.7",
    "consent_url": "https://example.com/form",
}


def example_lead(stream: Stream) -> dict:
    """A lead as a post to ``stream`` takes it (its vertical's extra columns included), captured
    now; its ping is the same without the contact (``CONTACT_FIELDS``)."""
    now = utcnow().replace(microsecond=0).isoformat()
    extra = dict.fromkeys(stream.batch.vertical.required_columns or (), "...")
    return _EXAMPLE_LEAD | extra | {"captured_at": now, "consented_at": now}


def list_events(*, stream_id: int, newest_first: bool = False):
    """The stream's plan history (``StreamEvent``), oldest first unless ``newest_first``."""
    order = StreamEvent.id.desc() if newest_first else StreamEvent.id
    return select(StreamEvent).where(StreamEvent.stream_id == stream_id).order_by(order)


def count_streams(*, seller_id: int) -> dict:
    """A seller's streams by state, for its dashboard card."""
    rows = db.session.execute(
        select(Stream.status, Stream.paused_by, func.count())
        .where(Stream.seller_id == seller_id)
        .group_by(Stream.status, Stream.paused_by)
    ).all()
    counts = {"active": 0, "paused": 0, "paused_by_plan": 0}
    for status, paused_by, n in rows:
        counts[status] += n
        if paused_by == "plan":
            counts["paused_by_plan"] += n
    return counts


def _event(
    stream: Stream, state: str, reason: str, *, lead_id: int | None = None, actor=None
) -> None:
    db.session.add(
        StreamEvent(
            stream_id=stream.id,
            state=state,
            reason=reason,
            lead_id=lead_id,
            actor_id=getattr(actor, "id", None),
            created_at=utcnow(),
        )
    )


def _lock_stream(stream_id: int) -> Stream:
    return db.session.scalar(
        select(Stream)
        .where(Stream.id == stream_id)
        .with_for_update(of=Stream)
        .execution_options(populate_existing=True)
    )


def _check_open(stream: Stream) -> None:
    if stream.status == "paused":
        raise StreamPaused()
    if seller_account(stream.seller_id).is_on_hold:
        raise SellerOnHold()


def _context(batch: Batch, *, network: bool) -> CheckContext:
    emails, phones = suppression_sets()
    config = current_app.config
    return CheckContext(
        now=utcnow(),
        max_age_days=batch.vertical.max_lead_age_days,
        required_extra=tuple(batch.vertical.required_columns or ()),
        suppressed_emails=emails,
        suppressed_phones=phones,
        deliverability=(
            configured_callable(config, "EMAIL_DELIVERABILITY_CHECK") if network else None
        ),
        line_type_lookup=configured_callable(config, "PHONE_LINE_TYPE_LOOKUP")
        if network
        else None,
    )


def _rejections(problems) -> list[dict]:
    return [{"field": f, "code": c, "message": m} for f, c, m, _details in problems]


# --- ping ----------------------------------------------------------------------------------------


class _Rollback(Exception):
    pass


# Keys and values of a ping's extra fields that carry a contact under another name.
_CONTACT_WORDS = (
    "phone", "mobile", "email", "mail", "address", "street", "firstname", "lastname",
    "fullname", "surname", "givenname",
)  # fmt: skip
_EMAIL_LIKE = re.compile(r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}")
_PHONE_LIKE = re.compile(r"\+?\d(?:[\s().-]*\d){6,}")


def _contact_keys(values: dict) -> list[str]:
    """The keys of a ping that carry a contact, however spelled: a contact column under any
    spelling the row checks accept ("Phone", "First Name"), an extra field named like one
    ("Street Address", "mobile_number"), or an extra field whose text holds an email address or
    a phone-length run of digits."""
    found = []
    for key, value in values.items():
        if value in (None, ""):
            continue
        name = key.strip() if isinstance(key, str) else str(key)
        column = canonical_header(name)
        if column in CONTACT_FIELDS:
            found.append(key)
        elif column not in LEAD_COLUMNS:
            squashed = name.lower().translate(HEADER_JUNK)
            text = value if isinstance(value, str) else str(value)
            if (
                any(word in squashed for word in _CONTACT_WORDS)
                or _EMAIL_LIKE.search(text)
                or _PHONE_LIKE.search(text)
            ):
                found.append(key)
    return sorted(found, key=str)


def ping_stream(*, seller: User, stream_id: int, values: dict) -> dict:
    """Would an order buy this lead now? Holds the first such order's capacity for 60 s.

    The ping's values are matched as a lead row that is inserted and rolled back, so the
    standing orders' filters are the market's own search; only the ping's id, price, expiry
    and hold are stored.
    """
    contact = _contact_keys(values)
    if contact:
        raise ContactInPing(details={key: ["Not in a ping."] for key in contact})
    stream = get_stream(actor=seller, stream_id=stream_id, admin_too=False)
    _check_open(stream)
    batch = stream.batch
    fmt = LeadRowFormat.for_batch(batch, now=utcnow(), dialect=db.engine.dialect.name)
    raw = {**values, **_PING_CONTACT}
    [(_, _, _, row, problems)] = check_chunk([(0, raw)], _context(batch, network=False), fmt)
    if row is None:
        raise LeadRejected(details={"rejections": _rejections(problems)})
    order_id = None
    try:
        with transaction() as session:
            # Matched as the lead it would be, then rolled back: nothing of it stays.
            insert_leads(session.connection(), [row])
            lead_id = session.scalar(
                select(Lead.id).where(Lead.batch_id == batch.id, Lead.row_number == 0)
            )
            session.execute(
                update(Lead)
                .where(Lead.id == lead_id)
                .values(
                    status="listed",
                    listed_at=utcnow(),
                    expires_at=expires_at_of(batch.vertical.max_lead_age_days),
                )
            )
            order = autobuy.would_buy([lead_id], now=utcnow())
            order_id = order.id if order is not None else None
            raise _Rollback()
    except _Rollback:
        pass
    with transaction() as session:
        hold = None
        if order_id is not None:
            # One open hold per stream: a ping that holds gives up the stream's earlier holds,
            # so re-pinging cannot tie up the standing orders' caps and budgets.
            for earlier in session.scalars(
                select(StreamPing.hold_id).where(
                    StreamPing.stream_id == stream.id,
                    StreamPing.hold_id.is_not(None),
                    StreamPing.expires_at > utcnow(),
                )
            ).all():
                autobuy.release_hold(hold_id=earlier)
            hold = autobuy.hold_order_for(search_id=order_id, cents=batch.price_cents)
        ping = StreamPing(
            id=secrets.token_hex(12),
            stream_id=stream.id,
            hold_id=hold.id if hold is not None else None,
            price_cents=batch.price_cents,
            expires_at=(
                hold.expires_at if hold else utcnow() + timedelta(seconds=autobuy.HOLD_SECONDS)
            ),
        )
        session.add(ping)
    return {
        "ping_id": ping.id,
        "would_sell": hold is not None,
        "price_cents": ping.price_cents,
        "expires_at": ping.expires_at,
    }


# --- post ----------------------------------------------------------------------------------------


def _claimable_hold(stream: Stream, ping_id: str | None) -> int | None:
    """The hold of the post's ping: None for no ping or an expired one (matched afresh); an
    unknown ping, or another stream's, is 422."""
    if ping_id is None:
        return None
    ping = db.session.get(StreamPing, ping_id) if isinstance(ping_id, str) else None
    if ping is None or ping.stream_id != stream.id:
        raise InvalidPing()
    if ping.expires_at <= utcnow() or not autobuy.hold_is_open(ping.hold_id):
        return None  # expired, given up by a later ping, or used by an earlier post
    return ping.hold_id


def post_lead(*, seller: User, stream_id: int, values: dict, ping_id: str | None = None) -> dict:
    """Check, de-duplicate, store and route one live lead (see the module docstring)."""
    owned = get_stream(actor=seller, stream_id=stream_id, admin_too=False)
    outcome: dict = {}
    with transaction() as session:
        # Intake's lock first: on SQLite it begins the write transaction, so every read below
        # (the stream's counters, de-duplication) sees what the previous holder committed.
        lock_intakes(session.connection())
        stream = _lock_stream(owned.id)
        batch = session.scalar(
            select(Batch)
            .where(Batch.id == stream.batch_id)
            .execution_options(populate_existing=True)
        )
        _check_open(stream)
        hold_id = _claimable_hold(stream, ping_id)
        number = batch.processed_rows + 1
        fmt = LeadRowFormat.for_batch(batch, now=utcnow(), dialect=db.engine.dialect.name)
        checked = check_chunk([(number, dict(values))], _context(batch, network=True), fmt)
        store_chunk(batch, checked, get_settings().lookback_days)
        lead_id = session.scalar(
            select(Lead.id).where(Lead.batch_id == batch.id, Lead.row_number == number)
        )
        if lead_id is None:
            problems = list(
                session.execute(
                    select(BatchRejection.field, BatchRejection.code, BatchRejection.message)
                    .where(BatchRejection.batch_id == batch.id)
                    .where(BatchRejection.row_number == number)
                )
            )
            outcome["refused"] = problems
        else:
            outcome.update(_route(stream, batch, lead_id, sequence=number))
        if hold_id is not None and outcome.get("status") != "listed":
            autobuy.release_hold(hold_id=hold_id)
    if "refused" in outcome:
        _raise_refusal(outcome["refused"])
    if outcome["status"] == "inspection":
        return {"lead_id": lead_id, "status": "inspection", "sales": 0}
    sales = autobuy.sell_live_lead(lead_id, hold_id=hold_id)
    return {"lead_id": lead_id, "status": "sold" if sales else "listed", "sales": sales}


def _raise_refusal(problems) -> None:
    duplicate = next((p for p in problems if p.code in ("duplicate", "duplicate_in_batch")), None)
    if duplicate is not None:
        raise DuplicateLead(
            f"This person's {duplicate.field} is already on Leadex.",
            details={"matched": duplicate.field},
        )
    raise LeadRejected(
        details={
            "rejections": [
                {"field": p.field, "code": p.code, "message": p.message} for p in problems
            ]
        }  # fmt: skip
    )


def _route(stream: Stream, batch: Batch, lead_id: int, *, sequence: int) -> dict:
    """The plan's decision for a stored lead: queue it for inspection, or list it now."""
    plan = plan_settings()
    state = csp.PlanState(stream.mode, stream.conforming_run, stream.screened)
    drawn = csp.is_drawn(
        seed=_draw_seed(), stream_id=stream.id, sequence=sequence, f=plan["sampling_fraction"]
    )
    if csp.needs_inspection(state, drawn=drawn):
        stream_lead_inspection.send(batch.id, lead_id=lead_id)
        return {"status": "inspection"}
    _list_lead(batch, lead_id)
    return {"status": "listed"}


def _list_lead(batch: Batch, lead_id: int) -> None:
    db.session.execute(
        update(Lead)
        .where(Lead.id == lead_id, Lead.status == "pending")
        .values(
            status="listed",
            listed_at=utcnow(),
            expires_at=expires_at_of(batch.vertical.max_lead_age_days),
        )
        .execution_options(synchronize_session=False)
    )


# --- inspection outcomes -------------------------------------------------------------------------


def stream_of_batch(batch_id: int) -> Stream | None:
    return db.session.scalar(select(Stream).where(Stream.batch_id == batch_id))


def apply_stream_outcome(*, lead_id: int, conforming: bool, actor=None) -> dict:
    """An inspected live lead: move the stream's plan, and list a conforming lead (offered to
    standing orders once the caller's transaction commits) or keep a defective one off sale.

    A helper of verification's ``record_outcome`` transaction: flushes, never commits.
    """
    lead = db.session.get(Lead, lead_id)
    stream = _lock_stream(stream_of_batch(lead.batch_id).id)
    plan = plan_settings()
    # Paused by the plan, it stands still until an admin resumes it (screening afresh); a
    # seller's pause stops posts, not the inspections of leads already waiting.
    before = csp.PlanState(
        stream.mode,
        stream.conforming_run,
        stream.screened,
        paused=stream.status == "paused" and stream.paused_by == "plan",
    )
    after = csp.after_outcome(
        before,
        conforming=conforming,
        clearance=plan["clearance_number"],
        limit=plan["screening_limit"],
    )
    stream.mode, stream.conforming_run, stream.screened = (
        after.mode,
        after.conforming_run,
        after.screened,
    )
    if after.mode != before.mode:
        reason = (
            f"{plan['clearance_number']} consecutive conforming leads: sampling"
            if after.mode == "sampling"
            else "a defect found: screening again"
        )
        _event(stream, after.mode, reason, lead_id=lead_id, actor=actor)
    if after.paused and not before.paused:
        # The plan's pause outranks the seller's: only an admin resumes it.
        stream.status, stream.paused_by = "paused", "plan"
        _event(
            stream,
            "paused",
            f"screened more than {plan['screening_limit']} leads without clearing",
            lead_id=lead_id,
            actor=actor,
        )
        notify(
            stream.seller_id,
            kind="stream.paused",
            message=(
                f"Your stream {stream.batch.name!r} was paused by its sampling plan: it screened "
                f"more than {plan['screening_limit']} leads without {plan['clearance_number']} "
                "conforming in a row. An admin will review it."
            ),
            link=f"/seller/streams/{stream.id}",
        )
    if conforming:
        _list_lead(stream.batch, lead_id)
        after_commit(lambda: autobuy.sell_live_lead(lead_id))
    else:
        db.session.execute(
            update(Lead)
            .where(Lead.id == lead_id, Lead.status == "pending")
            .values(status="defective")
        )
    db.session.flush()
    return {"mode": stream.mode, "status": stream.status}
