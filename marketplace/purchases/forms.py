"""Web forms of the buyer's bought leads (Flask-WTF: every form carries a CSRF token)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length

from marketplace.purchases.models import OUTCOMES


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
