"""Stripe customers and saved cards: one Customer per buyer organisation, made on first need;
cards attached to it, the newest the default."""

from __future__ import annotations

import logging

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from app.auth.models import Organization, User
from app.auth.services import record_audit
from app.db import end_read, insert_if_absent, transaction, utcnow
from app.errors import Invalid, NotFound
from app.extensions import db
from billing import queries
from billing import stripe_gateway as gateway
from billing.errors import (
    CardDeclined,
    PaymentMethodUnknown,
    PaymentProviderError,
    PaymentProviderUnavailable,
)
from billing.models import PaymentMethod, StripeCustomer

logger = logging.getLogger(__name__)


def ensure_customer(buyer_org_id: int) -> str:
    """The organisation's Stripe Customer id; the Customer is created on first need."""
    session = db.session
    row = session.get(StripeCustomer, buyer_org_id)
    if row is not None:
        return row.stripe_customer_id
    organization = session.get(Organization, buyer_org_id)
    if organization is None or organization.kind != "buyer":
        raise NotFound("No such buyer.")
    name = organization.name
    end_read()
    customer_id = _provider(gateway.create_customer, organization_id=buyer_org_id, name=name)
    with transaction():
        insert_if_absent(
            StripeCustomer,
            key=["organization_id"],
            organization_id=buyer_org_id,
            stripe_customer_id=customer_id,
            created_at=utcnow(),
        )
    row = session.get(StripeCustomer, buyer_org_id)
    if row.stripe_customer_id != customer_id:
        logger.warning(
            "org %s: a concurrent request made Stripe customer %s first; %s unused",
            buyer_org_id,
            row.stripe_customer_id,
            customer_id,
        )
    return row.stripe_customer_id


def _provider_error(exc: gateway.GatewayError) -> Exception:
    """A gateway failure of something that is not a payment, as the API error to answer."""
    if isinstance(exc, gateway.CardDeclined):
        return CardDeclined(exc.message, details={"decline_code": exc.code})
    if isinstance(exc, gateway.ProviderUnreachable | gateway.ProviderTimeout):
        return PaymentProviderUnavailable()
    return PaymentProviderError(exc.message, details={"provider_code": exc.code})


def _provider(fn, *args, **kwargs):
    """Call the gateway for something that is not a payment: provider faults as API errors."""
    try:
        return fn(*args, **kwargs)
    except gateway.GatewayError as exc:
        raise _provider_error(exc) from exc


def create_card_setup(*, buyer_org_id: int) -> dict:
    """A SetupIntent for Stripe.js ``confirmCardSetup`` on the card form."""
    customer = ensure_customer(buyer_org_id)
    return _provider(gateway.create_setup_intent, customer=customer)


def add_payment_method(
    *, buyer_org_id: int, payment_method: str, actor: User | None = None
) -> PaymentMethod:
    """Attach a card to the organisation's Customer and make it the default (idempotent)."""
    if (
        not isinstance(payment_method, str)
        or not payment_method.startswith("pm_")
        or not payment_method[3:].replace("_", "").isalnum()
        or len(payment_method) > 64
    ):
        raise Invalid(
            "Send a Stripe PaymentMethod id.",
            details={"payment_method": ["A Stripe PaymentMethod id such as 'pm_...'."]},
        )
    session = db.session
    known = session.scalar(
        select(PaymentMethod).where(PaymentMethod.stripe_payment_method_id == payment_method)
    )
    if known is not None:
        if known.organization_id != buyer_org_id:
            raise PaymentMethodUnknown()
        return known
    customer = ensure_customer(buyer_org_id)
    try:
        card = gateway.attach_payment_method(payment_method=payment_method, customer=customer)
    except gateway.ProviderRejected as exc:
        if exc.status in (400, 404):
            logger.info("card %s refused by Stripe: %s", payment_method, exc.message)
            raise PaymentMethodUnknown() from exc
        raise PaymentProviderError(exc.message) from exc
    except gateway.GatewayError as exc:
        raise _provider_error(exc) from exc
    _provider(gateway.set_default_payment_method, customer=customer, payment_method=card["id"])
    try:
        return _record_card(buyer_org_id, card, actor)
    except IntegrityError:
        # The same card saved twice at once: the other request recorded it.
        return queries.get_payment_method_for(
            buyer_org_id=buyer_org_id, payment_method_id=card["id"]
        )


def _record_card(buyer_org_id: int, card: dict, actor: User | None) -> PaymentMethod:
    session = db.session
    with transaction():
        session.execute(
            update(PaymentMethod)
            .where(PaymentMethod.organization_id == buyer_org_id)
            .values(is_default=False)
            .execution_options(synchronize_session=False)
        )
        row = PaymentMethod(
            organization_id=buyer_org_id,
            stripe_payment_method_id=card["id"],
            brand=(card["brand"] or "card")[:32],
            last4=(card["last4"] or "")[-4:],
            exp_month=card["exp_month"],
            exp_year=card["exp_year"],
            is_default=True,
        )
        session.add(row)
        session.flush()
        if actor is not None:
            record_audit(
                actor=actor, action="payment_method.added", obj=row, details={"last4": row.last4}
            )
    return row


def remove_payment_method(
    *, buyer_org_id: int, payment_method_id: str, actor: User | None = None
) -> None:
    """Detach a card; when it was the default, the newest remaining card becomes the default."""
    row = queries.get_payment_method_for(
        buyer_org_id=buyer_org_id, payment_method_id=payment_method_id
    )
    stripe_id = row.stripe_payment_method_id
    try:
        gateway.detach_payment_method(stripe_id)
    except gateway.ProviderRejected as exc:
        # Already gone at Stripe: forget it here too.
        logger.info("detach %s: %s", stripe_id, exc.message)
    except gateway.GatewayError as exc:
        raise _provider_error(exc) from exc
    new_default = None
    with transaction() as session:
        row = queries.get_payment_method_for(
            buyer_org_id=buyer_org_id, payment_method_id=stripe_id
        )
        was_default = row.is_default
        session.delete(row)
        session.flush()
        if was_default:
            new_default = session.scalar(
                select(PaymentMethod)
                .where(PaymentMethod.organization_id == buyer_org_id)
                .order_by(PaymentMethod.id.desc())
            )
            if new_default is not None:
                new_default.is_default = True
        if actor is not None:
            record_audit(
                actor=actor,
                action="payment_method.removed",
                object_type="payment_methods",
                object_id=stripe_id,
            )
        customer = session.get(StripeCustomer, buyer_org_id)
        customer_id = customer.stripe_customer_id if customer else None
        new_default_id = new_default.stripe_payment_method_id if new_default else None
    if new_default_id and customer_id:
        try:
            gateway.set_default_payment_method(customer=customer_id, payment_method=new_default_id)
        except gateway.GatewayError as exc:
            # Our default decides what we charge; Stripe's is informational.
            logger.warning("could not set the default card at Stripe: %s", exc.message)
