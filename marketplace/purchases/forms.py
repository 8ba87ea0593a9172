"""Web forms of purchases: buying from the market (the confirmation) and the buyer's bought
leads (Flask-WTF: every form carries a CSRF token)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange
from wtforms.widgets import HiddenInput

from app.web.forms import OnceForm
from marketplace.purchases.models import OUTCOMES


class ConfirmPurchaseForm(OnceForm):
    """The buyer confirms the total it was shown; a price moved since is ``price_changed``."""

    expected_total_cents = IntegerField(
        widget=HiddenInput(), validators=[InputRequired(), NumberRange(min=0)]
    )


class OutcomeForm(FlaskForm):
    """What became of a bought lead. Whether it needs a reason is the service's rule."""

    outcome = SelectField(
        "Outcome",
        choices=[
            SelectChoice("", "Choose…"),
            *[SelectChoice(outcome, outcome.title()) for outcome in OUTCOMES],
        ],
        validators=[InputRequired("Choose an outcome.")],
    )
    reason = StringField("Reason", validators=[Length(max=2000)])
