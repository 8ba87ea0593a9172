"""The dispute workflow: open (with automatic evidence), answer, resolve. Each call is one
transaction; the money moves through billing's facade, the lead changes through marketplace's.

- Opening holds the sale (billing refuses a sale already released: 409 ``sale_released``), so
  the seller's share stays in pending until the decision.
- Evidence that proves the buyer right (rules/disputes.settles) accepts the dispute at once,
  in the opening's transaction, through the same resolution path as an admin's decision.
- Resolving is decided by a conditional ``UPDATE ... WHERE status = 'open'``: a second request
  or a second admin finds nothing to update and gets 409 ``dispute_already_resolved``.
- Accepting reverses the sale exactly (buyer wallet + price; seller pending - share; platform
  revenue - fee), changes the lead as the reason says, and checks the seller's dispute hold and
  quality score in the same transaction, so a hold commits with the decision.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select, update

from app.auth.models import Organization, User
from app.auth.services import record_audit
from app.db import insert_if_absent, serialize_writes, transaction, utcnow
from app.errors import Conflict, Forbidden, Invalid, NotFound
from app.extensions import db
from app.notifications import notify
from app.settings import get_settings
from billing import services as billing
from marketplace import queries as market
from marketplace import services as market_services
from verification import services as verification
from verification.disputes.models import Dispute, DisputeResponse
from verification.rules.disputes import (
    ABUSE_WINDOW_DAYS,
    DECISIONS,
    FIELD_CODES,
    FLAGGED_FIELD,
    REASONS,
    WITHDRAWING_REASONS,
    response_deadline,
    settles,
    window_is_open,
    within_dispute_share,
)

AUTOMATIC_NOTES = {
    "bad_phone": "Today's re-check finds the phone invalid.",
    "bad_email": "Today's re-check finds the email invalid or undeliverable.",
    "duplicate": "The same person was sold to this buyer earlier.",
}


REASON_LABELS = {
    "bad_phone": "bad phone",
    "bad_email": "bad email",
    "wrong_person": "wrong person",
    "duplicate": "duplicate",
    "no_consent": "no consent",
    "outside_area": "outside the area",
    "fake_info": "fake information",
    "misqualified": "misqualified",
    "other": "other",
}


def _buyer_link(dispute) -> str:
    return f"/buyer/disputes/{dispute.id}"


def _seller_link(dispute) -> str:
    return f"/seller/disputes/{dispute.id}"


class AlreadyDisputed(Conflict):
    code = "already_disputed"
    message = "This lead has already been returned."


class AlreadyResolved(Conflict):
    code = "dispute_already_resolved"
    message = "This dispute has already been resolved."


class ResponseWindowClosed(Conflict):
    code = "response_window_closed"
    message = "The time to answer this dispute has passed, or it is resolved."


def _isoformat(value):
    return value.isoformat() if value is not None else None


# --- evidence ------------------------------------------------------------------------------------


def gather_evidence(item, reason: str) -> dict:
    """What Leadex finds on its own for ``reason`` (api-v1.md's evidence shape).

    Reads only; a configured deliverability check may call out, so this runs before the
    opening's transaction.
    """
    evidence = {"recheck": None, "duplicate": None, "consent": None}
    lead = item.lead
    if reason in FIELD_CODES:
        result = verification.run_recheck(lead)
        evidence["recheck"] = {"ok": result["ok"], "checks": result["checks"]}
    elif reason == "duplicate":
        match = market.earlier_sale_of_same_person(
            item, lookback_days=get_settings().lookback_days
        )
        if match is not None:
            evidence["duplicate"] = {
                "matched": match["matched"],
                "purchased_at": _isoformat(match["purchased_at"]),
            }
    elif reason == "no_consent":
        evidence["consent"] = {
            "text": lead.consent_text,
            "consented_at": _isoformat(lead.consented_at),
            "ip": lead.consent_ip,
            "url": lead.consent_url,
            "certificate": lead.consent_certificate,
        }
    return evidence


# --- opening -------------------------------------------------------------------------------------


def _disputes_since(buyer_org_id: int, since) -> int:
    return db.session.scalar(
        select(func.count()).where(
            Dispute.buyer_org_id == buyer_org_id, Dispute.created_at >= since
        )
    )


def _check_share(buyer_org_id: int, now) -> None:
    since = now - timedelta(days=ABUSE_WINDOW_DAYS)
    disputed = _disputes_since(buyer_org_id, since)
    bought = market.bought_count(buyer_org_id=buyer_org_id, since=since)
    limit = get_settings().buyer_dispute_limit_pct
    if not within_dispute_share(disputed=disputed, bought=bought, limit_pct=limit):
        raise Invalid(
            f"You have returned {disputed} of the {bought} lead{'s' * (bought != 1)} you bought "
            f"in the last {ABUSE_WINDOW_DAYS} days; returns are limited to {limit}% of purchases.",
            code="dispute_limit_reached",
            details={"disputed": disputed, "bought": bought, "limit_pct": limit},
        )


def open_dispute(*, actor: User, lead_id: int, reason: str, note) -> Dispute:
    """A buyer returns a lead its organisation bought, once, inside the return window."""
    if reason not in REASONS:
        raise Invalid("Unknown reason.", details={"reason": [f"One of {', '.join(REASONS)}."]})
    note = verification.clean_note(note, required=True)
    buyer_org_id = actor.organization_id
    item = market.get_purchased_lead(buyer_org_id=buyer_org_id, lead_id=lead_id)
    if item is None:
        raise NotFound("Your organisation has not bought this lead.")
    if item.dispute_id is not None:
        raise AlreadyDisputed(details={"dispute_id": item.dispute_id})
    now = utcnow()
    if not window_is_open(now=now, return_deadline=item.return_deadline):
        raise Invalid(
            "The return window for this lead has closed.",
            code="return_window_closed",
            details={"window_closed_at": item.return_deadline.isoformat()},
        )
    _check_share(buyer_org_id, now)
    evidence = gather_evidence(item, reason)
    with transaction():
        # One buyer's openings queue here, so two at once cannot both pass the share.
        serialize_writes()
        db.session.execute(
            select(Organization.id).where(Organization.id == buyer_org_id).with_for_update()
        )
        _check_share(buyer_org_id, now)
        lead = item.lead
        dispute_id = insert_if_absent(
            Dispute,
            key=["purchased_lead_id"],
            purchased_lead_id=item.id,
            lead_id=item.lead_id,
            purchase_id=item.purchase_id,
            buyer_org_id=buyer_org_id,
            seller_org_id=item.seller_org_id,
            vertical_id=lead.vertical_id,
            sale_id=item.sale_id,
            price_cents=item.price_cents,
            currency=item.currency,
            opened_by_id=actor.id,
            reason=reason,
            note=note,
            evidence=evidence,
            status="open",
            created_at=now,
            deadline=response_deadline(
                opened_at=now, seller_response_days=get_settings().seller_response_days
            ),
        )
        if dispute_id is None:
            raise AlreadyDisputed()
        if item.sale_id is not None:
            billing.set_sale_hold(
                sale_id=item.sale_id, is_held=True, reason=f"dispute {dispute_id} open"
            )
        market_services.set_purchase_dispute(
            purchased_lead_id=item.id, dispute_id=dispute_id, status="open"
        )
        dispute = db.session.get(Dispute, dispute_id)
        record_audit(
            actor=actor,
            action="dispute.opened",
            obj=dispute,
            details={"lead_id": lead_id, "reason": reason},
        )
        notify(
            dispute.seller_org_id,
            kind="dispute_opened",
            message=(
                f"Lead #{lead_id} was returned ({REASON_LABELS[reason]}). You may answer until "
                f"{dispute.deadline:%Y-%m-%d %H:%M} UTC."
            ),
            link=_seller_link(dispute),
        )
        if settles(reason, evidence):
            _resolve(
                dispute,
                decision="accept",
                resolution="automatic",
                actor=None,
                note=AUTOMATIC_NOTES[reason],
            )
    db.session.refresh(dispute)
    return dispute


# --- the seller's answer -------------------------------------------------------------------------


def respond(*, actor: User, dispute_id: int, note) -> DisputeResponse:
    """The seller's note on a dispute against its lead, until the dispute's deadline."""
    note = verification.clean_note(note, required=True)
    dispute = db.session.get(Dispute, dispute_id)
    if dispute is None or dispute.seller_org_id != actor.organization_id:
        raise NotFound("No such dispute.")
    with transaction():
        open_now = db.session.scalar(
            select(Dispute.id)
            .where(Dispute.id == dispute_id, Dispute.status == "open")
            .with_for_update()
        )
        now = utcnow()
        if open_now is None or now >= dispute.deadline:
            raise ResponseWindowClosed(details={"deadline": dispute.deadline.isoformat()})
        response = DisputeResponse(dispute_id=dispute_id, author_id=actor.id, note=note)
        db.session.add(response)
        db.session.flush()
        record_audit(actor=actor, action="dispute.answered", obj=dispute)
        notify(
            dispute.buyer_org_id,
            kind="dispute_answered",
            message=f"The seller answered your return of lead #{dispute.lead_id}.",
            link=_buyer_link(dispute),
        )
    db.session.refresh(dispute)
    return response


# --- resolution ----------------------------------------------------------------------------------


def resolve_dispute(*, actor: User, dispute_id: int, decision: str, note, answers=None) -> Dispute:
    """An admin accepts (credit the buyer, take the sale back) or rejects, with a note, once."""
    if not actor.is_admin:
        raise Forbidden("Only Leadex staff resolve disputes.")
    if decision not in DECISIONS:
        raise Invalid("Accept or reject.", details={"decision": ["accept or reject"]})
    note = verification.clean_note(note, required=True)
    dispute = db.session.get(Dispute, dispute_id)
    if dispute is None:
        raise NotFound("No such dispute.")
    if decision == "accept" and dispute.reason == "misqualified":
        answers = verification.clean_answers("misqualified", answers)
    elif answers is not None:
        raise Invalid(
            "Answers go with accepting a 'misqualified' dispute only.",
            details={"answers": ["Only when accepting a 'misqualified' dispute."]},
        )
    with transaction():
        _resolve(
            dispute,
            decision=decision,
            resolution="admin",
            actor=actor,
            note=note,
            answers=answers,
        )
    db.session.refresh(dispute)
    return dispute


def _resolve(dispute, *, decision, resolution, actor, note, answers=None) -> None:
    """Decide an open dispute inside the caller's transaction; the decision moves money and
    changes the lead only when this call is the one that closed it."""
    status = DECISIONS[decision]
    done = db.session.execute(
        update(Dispute)
        .where(Dispute.id == dispute.id, Dispute.status == "open")
        .values(
            status=status,
            resolution=resolution,
            resolved_at=utcnow(),
            resolved_by_id=actor.id if actor is not None else None,
            resolution_note=note,
            answers=answers,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    if not done:
        raise AlreadyResolved(details={"dispute_id": dispute.id})
    db.session.refresh(dispute)
    effect = None
    if status == "accepted":
        if dispute.sale_id is not None:
            billing.reverse_sale(
                sale_id=dispute.sale_id, reference=f"dispute {dispute.id} ({dispute.reason})"
            )
        effect = _apply_upheld(dispute, answers)
    elif dispute.sale_id is not None:
        billing.set_sale_hold(sale_id=dispute.sale_id, is_held=False)
    market_services.set_purchase_dispute(
        purchased_lead_id=dispute.purchased_lead_id, dispute_id=dispute.id, status=status
    )
    record_audit(
        actor=actor,
        action=f"dispute.{status}",
        obj=dispute,
        details={"resolution": resolution, "note": note, "effect": effect},
    )
    verdict = (
        f"accepted: {dispute.price_cents / 100:.2f} {dispute.currency.upper()} goes back to "
        "the buyer's wallet"
        if status == "accepted"
        else "rejected"
    )
    for organization_id, link in (
        (dispute.buyer_org_id, _buyer_link(dispute)),
        (dispute.seller_org_id, _seller_link(dispute)),
    ):
        notify(
            organization_id,
            kind=f"dispute_{status}",
            message=f"The return of lead #{dispute.lead_id} was {verdict}.",
            link=link,
        )
    seller_id = dispute.seller_org_id
    if status == "accepted":
        verification.check_dispute_hold(seller_id=seller_id)
    verification.refresh_quality_score(seller_id=seller_id)


def _apply_upheld(dispute, answers) -> dict | None:
    """What an upheld reason does to the lead: withdraw, flag the bad field, or re-score."""
    lead_id = dispute.lead_id
    if dispute.reason in WITHDRAWING_REASONS:
        try:
            market_services.withdraw_lead(actor=None, lead_id=lead_id)
        except Conflict as exc:
            if exc.code != "lead_not_listed":
                raise
            return {"withdrawn": False}  # already off sale
        return {"withdrawn": True}
    if dispute.reason in FLAGGED_FIELD:
        field = FLAGGED_FIELD[dispute.reason]
        lead = market.get_lead(lead_id)
        fresh = verification.run_recheck(lead)["changed"]
        values = {key: change["after"] for key, change in fresh.items()}
        changes = market_services.flag_lead(lead_id=lead_id, field=field, values=values)
        return {"flagged": field, "changed": sorted(changes)}
    if dispute.reason == "misqualified":
        changes = market_services.rescore_lead(lead_id=lead_id, bant_override=answers)
        return {"rescored": sorted(changes)}
    return None
