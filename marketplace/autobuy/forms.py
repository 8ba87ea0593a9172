"""Web form of a saved search and its auto-buy caps (Flask-WTF: every form carries a CSRF
token). The market filters are read beside it by the filter schema, as /market reads them."""

from __future__ import annotations

from decimal import Decimal

from flask_wtf import FlaskForm
from wtforms import BooleanField, DecimalField, IntegerField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from app.money import CENT, to_cents
from marketplace.autobuy.schemas import MAX_CENTS

MAX_DOLLARS = Decimal(MAX_CENTS) / 100


def _dollars(form, field) -> None:
    amount = field.data
    if amount is None:
        return
    if not amount.is_finite() or not 0 <= amount <= MAX_DOLLARS:
        raise ValidationError(f"An amount from $0.00 to ${MAX_DOLLARS:,.2f}.")
    if amount % CENT:
        raise ValidationError("Whole cents only, like 12.50.")


class SavedSearchForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired("Name this search."), Length(max=200)])
    auto_buy = BooleanField("Buy new matching leads automatically")
    max_price = DecimalField(
        "Most per lead ($)", places=2, validators=[Optional(), _dollars],
        render_kw={"step": "0.01", "min": "0", "inputmode": "decimal"},
    )  # fmt: skip
    daily_cap = IntegerField(
        "Leads per day (UTC)", validators=[Optional(), NumberRange(min=1, max=10_000)],
        render_kw={"min": "1", "max": "10000"},
    )  # fmt: skip
    budget = DecimalField(
        "Budget in all ($)", places=2, validators=[Optional(), _dollars],
        render_kw={"step": "0.01", "min": "0", "inputmode": "decimal"},
    )  # fmt: skip

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if self.auto_buy.data:
            for field in (self.max_price, self.daily_cap, self.budget):
                if field.data is None and not field.errors:
                    field.errors.append("Needed for auto-buy.")
                    valid = False
        return valid

    def auto_buy_caps(self) -> dict | None:
        """The auto-buy caps for the service, in cents; None when it does not auto-buy."""
        if not self.auto_buy.data:
            return None
        return {
            "max_price_cents": to_cents(self.max_price.data),
            "daily_cap": self.daily_cap.data,
            "budget_cents": to_cents(self.budget.data),
        }
