"""Web forms of the billing pages (Flask-WTF: every form carries a CSRF token).

Amounts are typed in dollars and become integer cents here, by Decimal arithmetic. Forms that
move money carry a ``request_id`` made when the page was drawn: a double click or a resent form
is the same request to the service, so it charges once.
"""

from __future__ import annotations

from decimal import Decimal

from flask_wtf import FlaskForm
from wtforms import BooleanField, DecimalField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from app.money import CENT, dollars
from app.web.forms import OnceForm
from billing.amounts import MAX_TOP_UP_CENTS, MIN_TOP_UP_CENTS
from billing.payouts import MAX_DETAILS_LENGTH, MAX_REFERENCE_LENGTH


def _whole_cents(low_cents: int, high_cents: int):
    low, high = Decimal(low_cents) / 100, Decimal(high_cents) / 100

    def check(form, field) -> None:
        amount = field.data
        if amount is None:
            return
        if not amount.is_finite():
            raise ValidationError("Whole cents only, like 50.00.")
        # The range first: ``%`` of an amount like 1e30 overflows Decimal's precision.
        if not low <= amount <= high:
            raise ValidationError(f"An amount from {dollars(low_cents)} to {dollars(high_cents)}.")
        if amount % CENT:
            raise ValidationError("Whole cents only, like 50.00.")

    return check


def _money_attrs(low_cents: int, high_cents: int) -> dict:
    return {
        "step": "0.01",
        "min": f"{low_cents // 100}.{low_cents % 100:02d}",
        "max": f"{high_cents // 100}.{high_cents % 100:02d}",
        "inputmode": "decimal",
    }


class TopUpForm(OnceForm):
    amount = DecimalField(
        "Amount (USD)",
        places=2,
        validators=[
            InputRequired("Give an amount."),
            _whole_cents(MIN_TOP_UP_CENTS, MAX_TOP_UP_CENTS),
        ],
        render_kw=_money_attrs(MIN_TOP_UP_CENTS, MAX_TOP_UP_CENTS),
    )


class AutoRechargeForm(FlaskForm):
    enabled = BooleanField("Top up automatically")
    threshold = DecimalField(
        "When the wallet falls under (USD)",
        places=2,
        validators=[InputRequired("Give a threshold."), _whole_cents(0, MAX_TOP_UP_CENTS)],
        render_kw=_money_attrs(0, MAX_TOP_UP_CENTS),
    )
    amount = DecimalField(
        "Add (USD)",
        places=2,
        validators=[
            InputRequired("Give an amount."),
            _whole_cents(MIN_TOP_UP_CENTS, MAX_TOP_UP_CENTS),
        ],
        render_kw=_money_attrs(MIN_TOP_UP_CENTS, MAX_TOP_UP_CENTS),
    )


class RefundForm(OnceForm):
    amount = DecimalField(
        "Amount back to your card (USD)",
        places=2,
        validators=[InputRequired("Give an amount."), _whole_cents(1, 10**11)],
        render_kw=_money_attrs(1, 10**11),
    )


class PayoutForm(OnceForm):
    amount = DecimalField(
        "Amount (USD)",
        places=2,
        validators=[Optional(), _whole_cents(1, 10**11)],
        description="Leave empty to be paid everything available.",
        render_kw=_money_attrs(1, 10**11),
    )


class PayoutDetailsForm(FlaskForm):
    bank_details = TextAreaField(
        "Where we pay you",
        validators=[DataRequired("Say where you are paid."), Length(max=MAX_DETAILS_LENGTH)],
        description="Account holder, bank, IBAN or account and routing number.",
        render_kw={"rows": 4},
    )


class MarkPaidForm(FlaskForm):
    reference = StringField(
        "Transfer reference",
        validators=[
            DataRequired("Give the transfer's reference."),
            Length(max=MAX_REFERENCE_LENGTH),
        ],
    )


class ReconcileForm(FlaskForm):
    fix = BooleanField("Settle pending top-ups and refunds that Stripe settled")
