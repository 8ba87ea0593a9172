"""Spot-check use cases: draw a batch's sample, record outcomes, decide, switch, hold, re-check.

The workflow starts when intake sends ``batch_processed`` and changes market state (batch and
lead status, holds, paused leads, inspection level, quality score) only through
marketplace.services. One use case is one transaction; the ``_`` helpers only flush.

Nothing a seller can read changes when an outcome is recorded, apart from the batch's running
counts (inspected, defects): re-scores of misqualified leads, defective leads kept off sale and
suppressions all wait for the decision, so the seller cannot tell which leads were sampled.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import asdict
from datetime import datetime

from flask import current_app
from sqlalchemy import insert, select, update

from app.auth.models import User
from app.auth.services import record_audit
from app.config import configured_callable
from app.db import transaction, utcnow
from app.errors import Conflict, Forbidden, Invalid, NotFound
from app.extensions import db
from app.settings import get_settings
from marketplace import queries as market
from marketplace import services as market_services
from verification import queries
from verification.models import LIVE_PLAN, OUTCOMES, SpotCheck, SpotCheckItem
from verification.rules.checks import CheckContext, check_row
from verification.rules.columns import LEAD_COLUMNS
from verification.rules.qualification import BANT_CRITERIA
from verification.rules.quality import quality_score, should_hold_for_disputes
from verification.rules.sampling import SamplingPlan, decide, draw_sample, plan_for
from verification.rules.stats import wilson_interval
from verification.rules.switching import InspectionState, after_hold_cleared, next_state

logger = logging.getLogger(__name__)

MAX_NOTE = 2000
# The figures a batch shows as its spot-check (batch.decision); the seed is not among them:
# with the seed and its lead ids a seller could work out the sample before the decision.
PLAN_KEYS = ("inspection_level", "aql", "lot_size", "code_letter", "whole_lot")


class AlreadyRecorded(Conflict):
    code = "already_recorded"
    message = "An outcome was already recorded for this lead."


class NotNeeded(Conflict):
    code = "not_needed"
    message = "The batch was decided before this lead was called; no outcome is needed."


class AlreadyOnHold(Conflict):
    code = "already_on_hold"
    message = "The seller is already on hold."


class NotOnHold(Conflict):
    code = "not_on_hold"
    message = "The seller is not on hold."


def new_seed() -> int:
    """A fresh seed for a draw: 32 random bits from the OS, recorded with the sample."""
    return secrets.randbits(32)


def _require_admin(actor: User | None) -> None:
    if actor is None or not actor.is_admin:
        raise Forbidden("Only Leadex staff work spot-checks and holds.")


def clean_note(note, *, required: bool) -> str | None:
    text = note.strip() if isinstance(note, str) else ""
    if required and not text:
        raise Invalid("Say why, in a note.", details={"note": ["A note is required."]})
    if len(text) > MAX_NOTE:
        raise Invalid("The note is too long.", details={"note": [f"At most {MAX_NOTE} chars."]})
    return text or None


# --- drawing the sample --------------------------------------------------------------------------


def on_batch_processed(batch_id, **_kwargs) -> None:
    """Receiver of marketplace's ``batch_processed``: sample a batch that reached spot_check.

    Intake sends it inside the transaction that moves the batch out of processing, and the
    draw joins that transaction: the status and the sample plan commit together, so nobody
    sees spot_check without its plan. An error here rolls both back; the batch stays
    processing and intake's retry (or ``flask batches resume``) finishes it.
    """
    draw_batch_sample(batch_id=batch_id)


def on_stream_lead_inspection(batch_id, *, lead_id, **_kwargs) -> None:
    """Receiver of marketplace's ``stream_lead_inspection``: queue a live lead for inspection.

    Sent inside the post's transaction, so the item commits with the lead (or neither does).
    """
    queue_live_lead(batch_id=batch_id, lead_id=lead_id)


def queue_live_lead(*, batch_id: int, lead_id: int) -> SpotCheckItem:
    """A stream's lead waits in the spot-check queue, first of all (its queue rank is 0).

    The stream's spot-check row (plan ``csp-1``, never decided) is made with its first item;
    its ``lot_size`` counts the live leads queued, ``inspected`` and ``defects`` the outcomes.
    """
    with transaction() as session:
        batch = market.get_batch(batch_id)
        check = queries.get_spot_check(batch_id)
        if check is None:
            check = SpotCheck(
                batch_id=batch_id,
                seller_id=batch.seller_id,
                inspection_level=LIVE_PLAN,
                aql=get_settings().stream_aoql_pct,
                lot_size=0,
                code_letter="-",
                sample_size=0,
                accept_number=0,
                reject_number=1,
                whole_lot=False,
                seed=0,
                drawn_at=utcnow(),
                inspected=0,
                defects=0,
            )
            session.add(check)
            session.flush()
        check.lot_size += 1
        item = SpotCheckItem(
            spot_check_id=check.id,
            batch_id=batch_id,
            lead_id=lead_id,
            status="pending",
            queue_rank=0,
            queued_at=utcnow(),
        )
        session.add(item)
        session.flush()
    return item


def draw_batch_sample(*, batch_id: int, seed: int | None = None) -> SpotCheck | None:
    """Draw and store a batch's sample if it waits in spot_check without one (idempotent).

    A held batch (seller on hold) is left alone until the hold is cleared. Inside a caller's
    transaction (intake's last one) it joins it and commits with it.
    """
    with transaction():
        check = _draw(batch_id, seed=seed)
        batch = market.get_batch(batch_id)
        if batch is not None:
            # Intake changed the seller's row counts, so its score may have moved.
            refresh_quality_score(seller_id=batch.seller_id)
    return check


def draw_missing_samples() -> list[int]:
    """Sample every batch in spot_check that has none; their ids.

    Intake draws in the transaction that reaches spot_check, so this only finds a batch that
    got there while no receiver listened, or one left from before that was so.
    """
    drawn = []
    for batch_id in market.list_batch_ids(status="spot_check"):
        if queries.get_spot_check(batch_id) is None:
            try:
                if draw_batch_sample(batch_id=batch_id) is not None:
                    drawn.append(batch_id)
            except Exception:
                db.session.rollback()
                logger.exception("batch %s: drawing the spot-check sample failed", batch_id)
    return drawn


def _plan_of(check: SpotCheck) -> SamplingPlan:
    return SamplingPlan(
        code_letter=check.code_letter,
        sample_size=check.sample_size,
        accept_number=check.accept_number,
        reject_number=check.reject_number,
        inspection=check.inspection_level,
        aql=check.aql,
        whole_lot=check.whole_lot,
    )


def _draw(batch_id: int, *, seed: int | None = None) -> SpotCheck | None:
    batch = market.get_batch(batch_id)
    if batch is None or batch.status != "spot_check":
        return None
    existing = queries.get_spot_check(batch_id)
    if existing is not None:
        return existing
    # The lot is the batch's accepted leads (accepted_count of them, all still pending).
    population = market.pending_lead_ids(batch_id=batch_id)
    if not population:
        logger.warning("batch %s is in spot_check with no pending lead to sample", batch_id)
        return None
    account = market_services.seller_account(batch.seller_id)
    plan = plan_for(len(population), aql=get_settings().aql, inspection=account.inspection_level)
    seed = new_seed() if seed is None else seed
    sampled = draw_sample(population, plan.sample_size, seed=seed)
    session = db.session
    check = SpotCheck(
        batch_id=batch.id,
        seller_id=batch.seller_id,
        inspection_level=plan.inspection,
        aql=plan.aql,
        lot_size=len(population),
        code_letter=plan.code_letter,
        sample_size=plan.sample_size,
        accept_number=plan.accept_number,
        reject_number=plan.reject_number,
        whole_lot=plan.whole_lot,
        seed=seed,
        drawn_at=utcnow(),
        inspected=0,
        defects=0,
    )
    session.add(check)
    session.flush()
    session.execute(
        insert(SpotCheckItem),
        [
            {
                "spot_check_id": check.id,
                "batch_id": batch.id,
                "lead_id": lead_id,
                "status": "pending",
            }
            for lead_id in sampled
        ],
    )
    market_services.set_batch_spot_check(batch_id=batch.id, figures=_figures(check))
    record_audit(
        actor=None,
        action="spot_check.drawn",
        obj=check,
        details={"batch_id": batch.id, "seed": seed, **_figures(check)},
    )
    logger.info(
        "batch %s: sample of %s drawn (%s, AQL %s, Ac %s Re %s)",
        batch.id,
        plan.sample_size,
        plan.inspection,
        plan.aql,
        plan.accept_number,
        plan.reject_number,
    )
    return check


def _figures(check: SpotCheck) -> dict:
    """What batch.decision carries: the plan, the running counts, the decision."""
    figures = {
        "sample_size": check.sample_size,
        "accept_number": check.accept_number,
        "reject_number": check.reject_number,
        "inspected": check.inspected,
        "defects": check.defects,
        "decision": check.decision,
    }
    figures.update({key: getattr(check, key) for key in PLAN_KEYS})
    figures["drawn_at"] = check.drawn_at.isoformat() if check.drawn_at else None
    figures["decided_at"] = check.decided_at.isoformat() if check.decided_at else None
    return figures


# --- recording outcomes and deciding -------------------------------------------------------------


def clean_answers(outcome: str, answers) -> dict | None:
    if outcome != "misqualified":
        if answers is not None:
            raise Invalid(
                "Answers are recorded only for a misqualified lead.",
                details={"answers": ["Only with outcome 'misqualified'."]},
            )
        return None
    if not isinstance(answers, dict):
        raise Invalid(
            "Record what the person said for budget, authority, need and timing.",
            details={"answers": ["Required for 'misqualified': the four BANT booleans."]},
        )
    problems = {
        key: ["true or false"] for key in BANT_CRITERIA if not isinstance(answers.get(key), bool)
    }
    unknown = sorted(set(answers) - set(BANT_CRITERIA))
    if problems or unknown:
        details = {"answers": problems or {}}
        if unknown:
            details["answers"].update({key: ["Unknown field."] for key in unknown})
        raise Invalid("The answers are not the four BANT booleans.", details=details)
    return {key: answers[key] for key in BANT_CRITERIA}


def record_outcome(
    *, actor: User, item_id: int, outcome: str, note: str | None = None, answers=None
) -> SpotCheckItem:
    """Record what the person said; decide the batch when the plan allows."""
    _require_admin(actor)
    if outcome not in OUTCOMES:
        raise Invalid("Unknown outcome.", details={"outcome": [f"One of {', '.join(OUTCOMES)}."]})
    answers = clean_answers(outcome, answers)
    note = clean_note(note, required=False)
    with transaction() as session:
        item = session.get(SpotCheckItem, item_id)
        if item is None:
            raise NotFound("No such spot-check item.")
        # Lock the sample first, always in this order (sample, seller, leads), so two admins
        # recording the last items of one batch queue up instead of deadlocking.
        check = session.scalar(
            select(SpotCheck)
            .where(SpotCheck.id == item.spot_check_id)
            .with_for_update(of=SpotCheck)
            .execution_options(populate_existing=True)
        )
        if check.decision is not None:
            session.refresh(item)
            raise AlreadyRecorded() if item.status == "done" else NotNeeded()
        now = utcnow()
        # Conditional on 'pending': two admins recording the same lead cannot both count.
        result = session.execute(
            update(SpotCheckItem)
            .where(SpotCheckItem.id == item_id, SpotCheckItem.status == "pending")
            .values(
                status="done",
                outcome=outcome,
                note=note,
                answers=answers,
                inspected_by_id=actor.id,
                inspected_at=now,
            )
        )
        if result.rowcount != 1:
            session.refresh(item)
            raise NotNeeded() if item.status == "closed" else AlreadyRecorded()
        defect = outcome != "confirmed"
        session.execute(
            update(SpotCheck)
            .where(SpotCheck.id == check.id)
            .values(
                inspected=SpotCheck.inspected + 1,
                defects=SpotCheck.defects + (1 if defect else 0),
            )
        )
        session.refresh(check)
        session.refresh(item)
        record_audit(
            actor=actor,
            action="spot_check.recorded",
            obj=item,
            details={
                "batch_id": item.batch_id,
                "lead_id": item.lead_id,
                "outcome": outcome,
                "defect": defect,
            },
        )
        if check.inspection_level == LIVE_PLAN:
            _apply_live_outcome(item, actor=actor)
            return item
        decision = decide(_plan_of(check), inspected=check.inspected, defects=check.defects)
        if decision is None:
            market_services.set_batch_spot_check(batch_id=check.batch_id, figures=_figures(check))
        else:
            _decide(check, decision, actor=actor)
    return item


def _apply_live_outcome(item: SpotCheckItem, *, actor: User) -> None:
    """A live lead has no batch decision to wait for: what its outcome changes happens now
    (a re-score, a suppression), and the stream's plan moves (marketplace lists a conforming
    lead and offers it to standing orders once this commits)."""
    if item.outcome == "misqualified" and item.answers:
        market_services.rescore_lead(lead_id=item.lead_id, bant_override=item.answers)
    if item.outcome == "denied_request":
        _suppress(item, actor=actor)
    plan = market_services.apply_stream_outcome(
        lead_id=item.lead_id, conforming=not item.is_defect, actor=actor
    )
    record_audit(
        actor=actor,
        action="stream.inspected",
        obj=item,
        details={"lead_id": item.lead_id, "outcome": item.outcome, **plan},
    )
    refresh_quality_score(seller_id=item.spot_check.seller_id)


def _decide(check: SpotCheck, decision: str, *, actor: User | None) -> None:
    session = db.session
    now = utcnow()
    result = session.execute(
        update(SpotCheck)
        .where(SpotCheck.id == check.id, SpotCheck.decision.is_(None))
        .values(decision=decision, decided_at=now)
    )
    if result.rowcount != 1:
        raise NotNeeded("The batch was already decided.")
    session.refresh(check)
    market_services.lock_seller_account(check.seller_id)
    # Items no one called yet are not needed once the batch is rejected early.
    session.execute(
        update(SpotCheckItem)
        .where(SpotCheckItem.spot_check_id == check.id, SpotCheckItem.status == "pending")
        .values(status="closed")
    )
    done = [item for item in queries.item_outcomes(check.batch_id) if item.status == "done"]

    # Only now may anything about the sampled leads change (see the module docstring).
    rescored = {}
    for item in done:
        if item.outcome == "misqualified" and item.answers:
            changes = market_services.rescore_lead(
                lead_id=item.lead_id, bant_override=item.answers
            )
            rescored[item.lead_id] = sorted(changes)
    suppressed = []
    for item in done:
        if item.outcome == "denied_request":
            suppressed.extend(_suppress(item, actor=actor))

    figures = _figures(check)
    plan = f"sample of {check.sample_size}, accept up to {check.accept_number} defects"
    if decision == "accepted":
        defective = [item.lead_id for item in done if item.is_defect]
        market_services.mark_leads_defective(lead_ids=defective)
        figures["message"] = (
            f"Spot-check passed: {check.defects} defect{'s' * (check.defects != 1)} "
            f"in {check.inspected} inspected ({plan})."
        )
        batch = market_services.list_batch(batch_id=check.batch_id, figures=figures)
    else:
        defective = []
        figures["message"] = (
            f"Spot-check failed: {check.defects} defects reached the reject number "
            f"{check.reject_number} after {check.inspected} of {check.sample_size} inspected "
            f"({plan}). No lead of this batch is sold."
        )
        batch = market_services.reject_batch(batch_id=check.batch_id, figures=figures)
    record_audit(
        actor=actor,
        action=f"batch.{decision}",
        obj=batch,
        details={
            "spot_check_id": check.id,
            "inspected": check.inspected,
            "defects": check.defects,
            "accept_number": check.accept_number,
            "reject_number": check.reject_number,
            "defective_leads": defective,
            "rescored_leads": rescored,
            "suppressions": suppressed,
        },
    )
    _switch(check.seller_id, accepted=decision == "accepted")
    refresh_quality_score(seller_id=check.seller_id)


def _suppress(item: SpotCheckItem, *, actor: User | None) -> list[int]:
    """The person said they never asked: never sell them again (email and phone)."""
    lead = market.get_lead(item.lead_id)
    added = []
    reason = f"Denied asking to be contacted (spot-check of batch {item.batch_id})."
    for kind in ("email", "phone"):
        value = getattr(lead, kind) if lead is not None else None
        if not value:
            continue
        try:
            row = market_services.add_suppression(actor=actor, reason=reason, **{kind: value})
        except Invalid:
            # A stored value intake accepted should always pass; never lose a decision over it.
            logger.warning("lead %s: %s could not be suppressed", item.lead_id, kind)
            continue
        added.append(row.id)
    return added


# --- switching and holds -------------------------------------------------------------------------


def _state_of(account) -> InspectionState:
    state = dict(account.inspection_state or {})
    return InspectionState(
        level=account.inspection_level or "normal",
        consecutive_accepted=int(state.get("consecutive_accepted", 0)),
        recent=tuple(bool(x) for x in state.get("recent", ())),
        rejected_while_tightened=int(state.get("rejected_while_tightened", 0)),
        on_hold=bool(state.get("on_hold", False)) or bool(account.is_on_hold),
    )


def _store_state(seller_id: int, state: InspectionState) -> None:
    data = asdict(state)
    data["recent"] = list(state.recent)
    market_services.set_inspection_state(seller_id=seller_id, level=state.level, state=data)


def _switch(seller_id: int, *, accepted: bool) -> InspectionState:
    """ISO 2859-1 switching after a decided batch; on 'hold' the seller is put on hold."""
    account = market_services.lock_seller_account(seller_id)
    before = _state_of(account)
    after = next_state(before, accepted=accepted)
    _store_state(seller_id, after)
    if after.level != before.level:
        record_audit(
            actor=None,
            action="seller.inspection_level_changed",
            object_type="organizations",
            object_id=seller_id,
            details={"from": before.level, "to": after.level},
        )
    if after.on_hold and not account.is_on_hold:
        _put_on_hold(
            seller_id,
            actor=None,
            cause="tightened_rejections",
            reason=(
                f"{after.rejected_while_tightened} batches rejected on tightened inspection: "
                "inspection is discontinued until Leadex staff clear the hold."
            ),
        )
    return after


def _put_on_hold(seller_id: int, *, actor: User | None, cause: str, reason: str) -> int:
    account = market_services.lock_seller_account(seller_id)
    if account.is_on_hold:
        raise AlreadyOnHold()
    paused = market_services.set_seller_hold(seller_id=seller_id, reason=reason)
    state = _state_of(account)
    state.on_hold = True
    _store_state(seller_id, state)
    record_audit(
        actor=actor,
        action="seller.hold_set",
        object_type="organizations",
        object_id=seller_id,
        details={"cause": cause, "note": reason, "paused_leads": paused},
    )
    return paused


def _require_seller(seller_id: int):
    seller = queries.get_seller(seller_id)
    if seller is None:
        raise NotFound("No such seller.")
    return seller


def hold_seller(*, actor: User, seller_id: int, note: str):
    """An admin puts a seller on hold (note required, audited)."""
    _require_admin(actor)
    note = clean_note(note, required=True)
    with transaction():
        seller = _require_seller(seller_id)
        _put_on_hold(seller_id, actor=actor, cause="admin", reason=note)
        refresh_quality_score(seller_id=seller_id)
    return seller


def clear_hold(*, actor: User, seller_id: int, note: str):
    """An admin clears a hold (note required, audited): paused leads return, held batches go
    on to spot-check on tightened inspection, as ISO 2859-1 asks after a discontinuation."""
    _require_admin(actor)
    note = clean_note(note, required=True)
    with transaction():
        seller = _require_seller(seller_id)
        account = market_services.lock_seller_account(seller_id)
        if not account.is_on_hold:
            raise NotOnHold()
        previous = account.hold_reason
        unpaused = market_services.clear_seller_hold(seller_id=seller_id)
        _store_state(seller_id, after_hold_cleared(_state_of(account)))
        released = market_services.release_held_batches(seller_id=seller_id)
        for batch_id in released:
            _draw(batch_id)
        record_audit(
            actor=actor,
            action="seller.hold_cleared",
            object_type="organizations",
            object_id=seller_id,
            details={
                "note": note,
                "hold_reason": previous,
                "unpaused_leads": unpaused,
                "released_batches": released,
            },
        )
        refresh_quality_score(seller_id=seller_id)
    return seller


def check_dispute_hold(*, seller_id: int, upheld: int | None = None, sold: int | None = None):
    """Hold a seller whose upheld-dispute rate is clearly over the platform limit.

    Called by the disputes workflow after a dispute is upheld. The counts default to the
    seller's figures (queries.dispute_counts); returns True when this call put it on hold.
    """
    with transaction():
        _require_seller(seller_id)
        if upheld is None or sold is None:
            counts = queries.seller_counts(seller_id)
            upheld = counts.get("disputes_upheld", 0) if upheld is None else upheld
            sold = counts.get("leads_sold", 0) if sold is None else sold
        limit = get_settings().upheld_dispute_limit_pct
        if not should_hold_for_disputes(upheld=upheld, sold=sold, limit_pct=limit):
            return False
        if market_services.lock_seller_account(seller_id).is_on_hold:
            return False
        lower, _upper = wilson_interval(upheld, sold)
        _put_on_hold(
            seller_id,
            actor=None,
            cause="disputes",
            reason=(
                f"Upheld disputes on {upheld} of {sold} sales: even the low end of the 95% "
                f"range ({lower:.1%}) is over the {limit}% limit."
            ),
        )
        refresh_quality_score(seller_id=seller_id)
    return True


# --- quality score -------------------------------------------------------------------------------


def refresh_quality_score(*, seller_id: int) -> int:
    """Compute the seller's published score and store it when it changed (flush only)."""
    score = quality_score(queries.seller_counts(seller_id))
    market_services.set_quality_score(seller_id=seller_id, score=score)
    return score


def refresh_quality_scores(progress=None) -> int:
    """Every seller's stored score brought up to date; returns how many changed."""
    changed = 0
    ids = [seller.id for seller in db.session.scalars(queries.list_sellers())]
    for seller_id in ids:
        with transaction():
            account = market_services.seller_account(seller_id)
            before = account.quality_score
            changed += refresh_quality_score(seller_id=seller_id) != before
        if progress:
            progress(1)
    return changed


# --- re-check ------------------------------------------------------------------------------------


def _plain(value):
    """A JSON-ready value: times as ISO 8601 with their offset."""
    return value.isoformat() if isinstance(value, datetime) else value


def recheck_lead(*, actor: User | None, lead_id: int) -> dict:
    """Run a stored lead through the automatic checks again, against today's suppression list,
    clock and vertical rules; return what the checks would store differently and what fails.

    Nothing about the lead is changed: disputes (and admins) decide what to do with the answer.
    ``actor`` is None when the disputes workflow calls it on its own.
    """
    if actor is not None:
        _require_admin(actor)
    with transaction():
        lead = market.get_lead(lead_id)
        if lead is None:
            raise NotFound("No such lead.")
        result = run_recheck(lead)
        record_audit(
            actor=actor,
            action="lead.rechecked",
            object_type="leads",
            object_id=lead.id,
            details={
                "changed": sorted(result["changed"]),
                "failed": [c["code"] for c in result["checks"]],
            },
        )
    return result


def run_recheck(lead) -> dict:
    """The re-check of ``lead`` with the checks intake uses, the configured network ones (email
    deliverability, phone line type) included, or a bad email could never be proved. Reads only:
    ``{"lead_id", "ok", "changed", "checks"}``; the caller audits."""
    stored = market.lead_values(lead)
    raw = {column: stored.get(column) for column in LEAD_COLUMNS}
    for key, value in stored["extra"].items():
        raw.setdefault(key, value)
    vertical = lead.batch.vertical
    emails, phones = market.suppressed_values(email=lead.email, phone=lead.phone)
    config = current_app.config
    context = CheckContext(
        now=utcnow(),
        max_age_days=vertical.max_lead_age_days,
        required_extra=tuple(vertical.required_columns or ()),
        suppressed_emails=emails,
        suppressed_phones=phones,
        deliverability=configured_callable(config, "EMAIL_DELIVERABILITY_CHECK"),
        line_type_lookup=configured_callable(config, "PHONE_LINE_TYPE_LOOKUP"),
    )
    result = check_row(raw, context)
    fresh = result.values
    if fresh.get("email"):
        fresh["email"] = fresh["email"].lower()  # stored lower-case, as intake does
    changed = {
        key: {"before": _plain(stored[key]), "after": _plain(value)}
        for key, value in fresh.items()
        if key in stored and stored[key] != value
    }
    checks = [
        {"field": r.field, "code": r.code, "message": r.message, "details": r.details}
        for r in result.rejections
    ]
    return {"lead_id": lead.id, "ok": not checks, "changed": changed, "checks": checks}
