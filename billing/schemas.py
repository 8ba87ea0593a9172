"""Billing's API shapes: ``...Args`` load input into dicts, ``...Schema`` dump output."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from app.api import PageArgs
from app.fields import Id
from billing.amounts import MAX_AMOUNT_CENTS, MAX_TOP_UP_CENTS, MIN_TOP_UP_CENTS
from billing.models import (
    ACCOUNT_KINDS,
    PAYOUT_STATUSES,
    TOP_UP_STATUSES,
    TRANSACTION_KINDS,
)
from billing.payouts import MAX_DETAILS_LENGTH, MAX_REFERENCE_LENGTH


def cents(low: int, high: int, **kwargs) -> fields.Integer:
    """Integer cents only: strings, fractions and booleans are 422, as is anything out of range."""
    return fields.Integer(strict=True, validate=validate.Range(min=low, max=high), **kwargs)


# --- input ---------------------------------------------------------------------------------


class TopUpArgs(ma.Schema):
    amount_cents = cents(MIN_TOP_UP_CENTS, MAX_TOP_UP_CENTS, required=True)


class PaymentMethodArgs(ma.Schema):
    payment_method = fields.String(
        required=True,
        validate=[validate.Length(max=64), validate.Regexp(r"^pm_[A-Za-z0-9_]+$")],
    )


class AutoRechargeArgs(ma.Schema):
    enabled = fields.Boolean(required=True)
    threshold_cents = cents(0, MAX_TOP_UP_CENTS, required=True)
    amount_cents = cents(MIN_TOP_UP_CENTS, MAX_TOP_UP_CENTS, required=True)


class RefundArgs(ma.Schema):
    amount_cents = cents(1, MAX_AMOUNT_CENTS, required=True)


class PayoutArgs(ma.Schema):
    amount_cents = cents(1, MAX_AMOUNT_CENTS, load_default=None)


class PayoutDetailsArgs(ma.Schema):
    bank_details = fields.String(
        required=True, validate=validate.Length(min=1, max=MAX_DETAILS_LENGTH)
    )


class MarkPaidArgs(ma.Schema):
    reference = fields.String(
        required=True, validate=validate.Length(min=1, max=MAX_REFERENCE_LENGTH)
    )


class LedgerArgs(PageArgs):
    account = fields.String(load_default=None, validate=validate.OneOf(ACCOUNT_KINDS))
    kind = fields.String(load_default=None, validate=validate.OneOf(TRANSACTION_KINDS))
    organization_id = Id(load_default=None)


class TopUpListArgs(PageArgs):
    status = fields.String(load_default=None, validate=validate.OneOf(TOP_UP_STATUSES))


class PayoutListArgs(PageArgs):
    status = fields.String(load_default=None, validate=validate.OneOf(PAYOUT_STATUSES))


# --- output --------------------------------------------------------------------------------


class AutoRechargeSchema(ma.Schema):
    enabled = fields.Boolean()
    threshold_cents = fields.Integer()
    amount_cents = fields.Integer()
    disabled_reason = fields.String(allow_none=True)
    disabled_at = fields.DateTime(allow_none=True)


class WalletSchema(ma.Schema):
    balance_cents = fields.Integer()
    currency = fields.String()
    auto_recharge = fields.Nested(AutoRechargeSchema)


class PaymentMethodSchema(ma.Schema):
    id = fields.String(attribute="stripe_payment_method_id")
    brand = fields.String()
    last4 = fields.String()
    exp_month = fields.Integer(allow_none=True)
    exp_year = fields.Integer(allow_none=True)
    is_default = fields.Boolean()
    created_at = fields.DateTime()


class SetupIntentSchema(ma.Schema):
    id = fields.String()
    client_secret = fields.String()


class TopUpSchema(ma.Schema):
    id = fields.Integer()
    status = fields.String()
    amount_cents = fields.Integer()
    currency = fields.String()
    trigger = fields.String()
    card = fields.String(attribute="card_label", allow_none=True)
    failure_code = fields.String(allow_none=True)
    failure_message = fields.String(allow_none=True)
    refunded_cents = fields.Integer()
    created_at = fields.DateTime()
    settled_at = fields.DateTime(allow_none=True)


class RefundPartSchema(ma.Schema):
    top_up_id = fields.Integer()
    amount_cents = fields.Integer()
    status = fields.String()
    failure_message = fields.String(allow_none=True)


class RefundSchema(ma.Schema):
    id = fields.Integer()
    status = fields.String()
    amount_cents = fields.Integer()
    currency = fields.String()
    source = fields.String()
    parts = fields.List(fields.Nested(RefundPartSchema))
    created_at = fields.DateTime()
    completed_at = fields.DateTime(allow_none=True)


class PayoutSchema(ma.Schema):
    id = fields.Integer()
    amount_cents = fields.Integer()
    currency = fields.String()
    status = fields.String()
    provider = fields.String()
    destination = fields.String()
    reference = fields.String(allow_none=True)
    requested_at = fields.DateTime()
    paid_at = fields.DateTime(allow_none=True)


class AdminPayoutSchema(PayoutSchema):
    organization_id = fields.Integer()


class PayoutDetailsSchema(ma.Schema):
    bank_details = fields.String(attribute="details")
    updated_at = fields.DateTime(allow_none=True)


class LedgerEntrySchema(ma.Schema):
    id = fields.Integer()
    transaction_id = fields.Integer()
    account = fields.String()
    organization_id = fields.Integer(allow_none=True)
    amount_cents = fields.Integer()
    currency = fields.String()
    kind = fields.String()
    reference = fields.String()
    created_at = fields.DateTime()


class EarningsSchema(ma.Schema):
    pending_cents = fields.Integer()
    available_cents = fields.Integer()
    requested_cents = fields.Integer()
    paid_out_cents = fields.Integer()
    currency = fields.String()


class WebhookAckSchema(ma.Schema):
    received = fields.Boolean()
