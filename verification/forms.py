"""Web forms of verification (Flask-WTF, so each carries a CSRF token)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional

OUTCOME_LABELS = {
    "confirmed": "Confirmed: asked to be contacted, details right",
    "wrong_contact": "Wrong contact: number or address reaches someone else",
    "unreachable": "Unreachable: no answer, number or address dead",
    "denied_request": "Denied: says they never asked (goes on the suppression list)",
    "fake": "Fake: invented person or details",
    "misqualified": "Misqualified: real, but the answers differ",
    "refused": "Refused: would not answer",
}
BANT_LABELS = {
    "budget": "Has a budget",
    "authority": "Decides, or shares the decision",
    "need": "Has a real need",
    "timing": "Plans to buy within 6 months",
}


class SpotCheckForm(FlaskForm):
    outcome = RadioField(
        "Outcome",
        choices=[SelectChoice(value, label) for value, label in OUTCOME_LABELS.items()],
        validators=[InputRequired("Choose an outcome.")],
    )
    budget = BooleanField(BANT_LABELS["budget"])
    authority = BooleanField(BANT_LABELS["authority"])
    need = BooleanField(BANT_LABELS["need"])
    timing = BooleanField(BANT_LABELS["timing"])
    note = TextAreaField(
        "Note (optional)",
        validators=[Optional(), Length(max=2000)],
        description="What the person said, in a sentence. The seller never sees it.",
        render_kw={"rows": 3},
    )

    def answers(self) -> dict | None:
        """The BANT the person gave, for a misqualified lead only."""
        if self.outcome.data != "misqualified":
            return None
        return {key: bool(self[key].data) for key in BANT_LABELS}


class HoldForm(FlaskForm):
    note = TextAreaField(
        "Note", validators=[DataRequired("A note is required."), Length(max=2000)]
    )
