"""Compare our top-ups and refunds with Stripe's PaymentIntents and Refunds.

Every difference is reported, both ways: a payment or refund Stripe has and we do not, one we
have and Stripe does not, amounts that differ, states that disagree. ``fix=True`` settles what
can be settled safely: a pending top-up that Stripe shows succeeded (credited, once) or failed,
a pending refund part Stripe made (or, after the grace period, never made).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select

from app.db import transaction, utcnow
from app.extensions import db
from billing import stripe_gateway as gateway
from billing.models import RefundPart, TopUp, WalletRefund
from billing.refunds import fail_refund_part, settle_refund_part
from billing.top_ups import apply_payment_intent, settle_top_up_failed

logger = logging.getLogger(__name__)

# Younger than this, a pending top-up or refund may still be on its way: not a difference yet.
GRACE = timedelta(minutes=15)
FAILED_STATES = ("canceled", "requires_payment_method")


@dataclass
class Difference:
    kind: str
    subject: str
    ours: str
    stripe: str
    fixed: str | None = None

    def __str__(self) -> str:
        text = f"{self.kind:26s} {self.subject:32s} ours: {self.ours:34s} stripe: {self.stripe}"
        return text + (f"  -> fixed: {self.fixed}" if self.fixed else "")


@dataclass
class Result:
    differences: list[Difference] = field(default_factory=list)
    payment_intents: int = 0
    refunds: int = 0
    top_ups: int = 0

    @property
    def unresolved(self) -> list[Difference]:
        return [d for d in self.differences if not d.fixed]

    def as_dict(self) -> dict:
        return {
            "payment_intents": self.payment_intents,
            "refunds": self.refunds,
            "top_ups": self.top_ups,
            "differences": [d.__dict__ for d in self.differences],
        }


def _money(cents: int, currency: str = "usd") -> str:
    return f"{cents} {currency}"


def _failed_at_stripe(pi: gateway.PaymentIntentResult) -> bool:
    return pi.status == "canceled" or (
        pi.status == "requires_payment_method" and bool(pi.failure_code or pi.failure_message)
    )


def reconcile(
    *, fix: bool = False, now: datetime | None = None, grace: timedelta = GRACE
) -> Result:
    now = now or utcnow()
    result = Result()
    intents = {
        pi.id: pi for pi in gateway.list_payment_intents() if "leadex_top_up_id" in pi.metadata
    }
    result.payment_intents = len(intents)
    by_top_up_id: dict[int, gateway.PaymentIntentResult] = {}
    for pi in intents.values():
        raw = str(pi.metadata.get("leadex_top_up_id"))
        if raw.isascii() and raw.isdigit():
            by_top_up_id.setdefault(int(raw), pi)
    session = db.session
    top_ups = session.scalars(select(TopUp).order_by(TopUp.id)).all()
    result.top_ups = len(top_ups)
    matched: set[str] = set()
    charge_to_pi: dict[str, str] = {}
    for top_up in top_ups:
        pi = (
            intents.get(top_up.stripe_payment_intent_id)
            if top_up.stripe_payment_intent_id
            else by_top_up_id.get(top_up.id)
        )
        if pi is not None and str(pi.metadata.get("leadex_organization_id", "")) not in (
            "",
            str(top_up.organization_id),
        ):
            pi = None  # another installation's top-up with the same number
        label = f"top-up {top_up.id}"
        ours = f"{top_up.status} {_money(top_up.amount_cents, top_up.currency)}"
        if pi is None:
            _missing_at_stripe(result, top_up, label, ours, fix=fix, now=now, grace=grace)
            continue
        matched.add(pi.id)
        if pi.charge_id:
            charge_to_pi[pi.charge_id] = pi.id
        label = f"{label} ({pi.id})"
        theirs = f"{pi.status} {_money(pi.amount_cents, pi.currency)}"
        if pi.amount_cents != top_up.amount_cents or pi.currency != top_up.currency:
            result.differences.append(Difference("amount_differs", label, ours, theirs))
            continue
        if top_up.status == "pending" and (pi.status == "succeeded" or _failed_at_stripe(pi)):
            difference = Difference("pending_here", label, ours, theirs)
            if fix:
                with transaction():
                    difference.fixed = apply_payment_intent(top_up.id, pi)
            result.differences.append(difference)
        elif top_up.status == "failed" and pi.status == "succeeded":
            difference = Difference("failed_here_paid_at_stripe", label, ours, theirs)
            if fix:
                with transaction():
                    difference.fixed = apply_payment_intent(top_up.id, pi)
            result.differences.append(difference)
        elif top_up.status == "succeeded" and pi.status != "succeeded":
            result.differences.append(Difference("not_paid_at_stripe", label, ours, theirs))
    for pi in intents.values():
        if pi.id in matched:
            continue
        if pi.charge_id:
            charge_to_pi[pi.charge_id] = pi.id
        result.differences.append(
            Difference(
                "missing_here",
                f"{pi.id} (top-up {pi.metadata.get('leadex_top_up_id')})",
                "no such top-up",
                f"{pi.status} {_money(pi.amount_cents, pi.currency)}",
            )
        )
    _reconcile_refunds(result, set(intents), charge_to_pi, fix=fix, now=now, grace=grace)
    for refund in session.scalars(select(WalletRefund).where(WalletRefund.uncovered_cents > 0)):
        result.differences.append(
            Difference(
                "refund_not_covered",
                f"refund {refund.id}",
                f"wallet covered {refund.amount_cents - refund.uncovered_cents}",
                f"refunded {refund.amount_cents}",
            )
        )
    return result


def _missing_at_stripe(result, top_up: TopUp, label, ours, *, fix, now, grace) -> None:
    if top_up.status == "failed" and not top_up.stripe_payment_intent_id:
        return  # never reached Stripe (declined before a PaymentIntent, or provider down)
    if top_up.status == "pending" and now - top_up.created_at < grace:
        return
    difference = Difference("missing_at_stripe", label, ours, "no such payment")
    if fix and top_up.status == "pending":
        with transaction():
            if settle_top_up_failed(
                top_up.id,
                code="not_found_at_stripe",
                message="The payment never reached the provider.",
            ):
                difference.fixed = "failed"
    result.differences.append(difference)


def _reconcile_refunds(
    result, our_intents: set[str], charge_to_pi: dict, *, fix, now, grace
) -> None:
    session = db.session
    stripe_refunds = {}
    for refund in gateway.list_refunds():
        pi = refund["payment_intent"] or charge_to_pi.get(refund["charge"])
        if pi in our_intents or "leadex_refund_part_id" in refund["metadata"]:
            stripe_refunds[refund["id"]] = refund
    result.refunds = len(stripe_refunds)
    by_part = {
        str(r["metadata"].get("leadex_refund_part_id")): r
        for r in stripe_refunds.values()
        if r["metadata"].get("leadex_refund_part_id")
    }
    matched: set[str] = set()
    for part in session.scalars(select(RefundPart).order_by(RefundPart.id)).all():
        label = f"refund part {part.id}"
        ours = f"{part.status} {_money(part.amount_cents)}"
        if part.stripe_refund_id:
            matched.add(part.stripe_refund_id)
            if "#" in part.stripe_refund_id:
                continue  # learnt from a charge.refunded total, no refund id to compare
            refund = stripe_refunds.get(part.stripe_refund_id)
            if refund is None:
                result.differences.append(
                    Difference(
                        "refund_missing_at_stripe",
                        f"{label} ({part.stripe_refund_id})",
                        ours,
                        "no such refund",
                    )
                )
            elif refund["amount_cents"] != part.amount_cents:
                result.differences.append(
                    Difference(
                        "refund_amount_differs",
                        f"{label} ({refund['id']})",
                        ours,
                        _money(refund["amount_cents"]),
                    )
                )
            continue
        refund = by_part.get(str(part.id))
        if refund is not None:
            matched.add(refund["id"])
        if part.status != "pending":
            if refund is not None:
                result.differences.append(
                    Difference(
                        "refund_failed_here_made_at_stripe",
                        label,
                        ours,
                        f"{refund['id']} {_money(refund['amount_cents'])}",
                    )
                )
            continue
        if refund is None and now - part.created_at < grace:
            continue
        difference = Difference(
            "refund_pending_here",
            label,
            ours,
            f"{refund['id']} {_money(refund['amount_cents'])}" if refund else "no such refund",
        )
        if fix:
            with transaction():
                if refund is not None:
                    settle_refund_part(part.id, stripe_refund_id=refund["id"])
                    difference.fixed = "succeeded"
                else:
                    fail_refund_part(part.id, message="Never reached the provider.")
                    difference.fixed = "failed, credited back"
        result.differences.append(difference)
    for refund_id, refund in stripe_refunds.items():
        if refund_id not in matched:
            result.differences.append(
                Difference(
                    "refund_missing_here",
                    refund_id,
                    "no such refund",
                    f"{refund['status']} {_money(refund['amount_cents'])}",
                )
            )
