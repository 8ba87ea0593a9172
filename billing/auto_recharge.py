"""Auto-recharge: a buyer's setting, the claim that queues one off-session top-up per trigger when
the wallet falls under the threshold, and switching it off when a recharge fails.

The queued task charges through ``top_ups.run_auto_recharge``; this module never imports
top-ups (top-ups import it, to switch auto-recharge off), and queues the task by name."""

from __future__ import annotations

import logging

from sqlalchemy import update

from app.auth.models import User
from app.auth.services import record_audit
from app.db import in_transaction, insert_if_absent, transaction, utcnow
from app.extensions import db
from app.tasks import enqueue
from billing import ledger, queries
from billing.amounts import MAX_TOP_UP_CENTS, MIN_TOP_UP_CENTS, check_amount
from billing.errors import NoPaymentMethod
from billing.models import AutoRecharge
from billing.signals import auto_recharge_failed

logger = logging.getLogger(__name__)

# The task that runs a claimed recharge (billing/tasks.py), queued by name.
RECHARGE_TASK = "billing.auto_recharge"


def set_auto_recharge(
    *,
    buyer_org_id: int,
    is_enabled: bool,
    threshold_cents: int,
    amount_cents: int,
    actor: User | None = None,
) -> AutoRecharge:
    """Save the buyer's setting (the row is made on first save); turning it on needs a card."""
    check_amount(threshold_cents, "threshold_cents", low=0, high=MAX_TOP_UP_CENTS)
    check_amount(amount_cents, "amount_cents", low=MIN_TOP_UP_CENTS, high=MAX_TOP_UP_CENTS)
    with transaction() as session:
        if is_enabled and queries.get_default_payment_method(buyer_org_id) is None:
            raise NoPaymentMethod("Add a card before turning auto-recharge on.")
        insert_if_absent(
            AutoRecharge,
            key=["organization_id"],
            organization_id=buyer_org_id,
            is_enabled=False,
            threshold_cents=threshold_cents,
            amount_cents=amount_cents,
            is_running=False,
            trigger_count=0,
        )
        setting = session.get(AutoRecharge, buyer_org_id)
        setting.is_enabled = bool(is_enabled)
        setting.threshold_cents = threshold_cents
        setting.amount_cents = amount_cents
        setting.updated_at = utcnow()
        if is_enabled:
            setting.disabled_reason = None
            setting.disabled_at = None
        session.flush()
        if actor is not None:
            record_audit(
                actor=actor,
                action="auto_recharge.updated",
                obj=setting,
                object_id=buyer_org_id,
                details={
                    "is_enabled": setting.is_enabled,
                    "threshold_cents": threshold_cents,
                    "amount_cents": amount_cents,
                },
            )
    return setting


def maybe_auto_recharge(buyer_org_id: int) -> bool:
    """Queue one off-session recharge when the wallet is under the buyer's threshold.

    For the market, after its purchase has committed (not inside another transaction: the
    queued task must see what this one wrote). One trigger queues one charge: a recharge
    already queued or running makes further calls no-ops until it finishes.
    """
    if in_transaction():
        raise RuntimeError("call maybe_auto_recharge after the purchase transaction commits")
    with transaction() as session:
        setting = session.get(AutoRecharge, buyer_org_id)
        if setting is None or not setting.is_enabled:
            return False
        if ledger.balance_of("buyer_wallet", buyer_org_id) >= setting.threshold_cents:
            return False
        trigger = setting.trigger_count + 1
        claimed = session.execute(
            update(AutoRecharge)
            .where(
                AutoRecharge.organization_id == buyer_org_id,
                AutoRecharge.is_enabled.is_(True),
                AutoRecharge.is_running.is_(False),
                AutoRecharge.trigger_count == setting.trigger_count,
            )
            .values(is_running=True, trigger_count=trigger, last_triggered_at=utcnow())
            .execution_options(synchronize_session=False)
        ).rowcount
        if not claimed:
            return False
    try:
        enqueue(RECHARGE_TASK, buyer_org_id, trigger)
    except Exception:
        # Not queued (broker down): free the trigger, so the next purchase tries again.
        release_trigger(buyer_org_id, trigger)
        raise
    return True


def release_trigger(buyer_org_id: int, trigger: int) -> None:
    """Free the claim of ``trigger`` (its own transaction): the recharge finished or was never
    queued, so the next purchase under the threshold may claim another. A claim that a newer
    trigger replaced is left alone."""
    with transaction() as session:
        session.execute(
            update(AutoRecharge)
            .where(
                AutoRecharge.organization_id == buyer_org_id,
                AutoRecharge.trigger_count == trigger,
            )
            .values(is_running=False)
            .execution_options(synchronize_session=False)
        )


def disable_auto_recharge(buyer_org_id: int, *, reason: str, top_up_id: int | None = None) -> bool:
    """Turn auto-recharge off, say why, and tell listeners (the market pauses auto-buy).

    Listeners run inside this transaction, so the pause and the switch-off commit together.
    """
    done = db.session.execute(
        update(AutoRecharge)
        .where(AutoRecharge.organization_id == buyer_org_id, AutoRecharge.is_enabled.is_(True))
        .values(
            is_enabled=False, disabled_reason=reason, disabled_at=utcnow(), updated_at=utcnow()
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    if done:
        logger.info("auto-recharge of org %s turned off: %s", buyer_org_id, reason)
        auto_recharge_failed.send(
            "billing", organization_id=buyer_org_id, reason=reason, top_up_id=top_up_id
        )
    return bool(done)
