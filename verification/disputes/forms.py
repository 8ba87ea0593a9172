"""Web forms of disputes (Flask-WTF, so each carries a CSRF token) and the words people read."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import RadioField, SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length

from verification.disputes.schemas import MAX_NOTE
from verification.forms import BANT_LABELS

REASON_LABELS = {
    "bad_phone": "Bad phone: the number is dead or not a phone",
    "bad_email": "Bad email: bounces or is a throwaway address",
    "wrong_person": "Wrong person: the contact reaches someone else",
    "duplicate": "Duplicate: you bought this person before",
    "no_consent": "No consent: the person never asked to be contacted",
    "outside_area": "Outside the area: not where the listing said",
    "fake_info": "Fake: invented person or details",
    "misqualified": "Misqualified: real, but the answers are not what was sold",
    "other": "Other (say what in the note)",
}

# A refusal of the opening service, in plain words for the return form.
REFUSALS = {
    "already_disputed": "You have already returned this lead.",
    "return_window_closed": "The return window for this lead has closed: it can no longer be "
    "returned.",
    "sale_released": "The seller has already been paid for this lead, so it can no longer be "
    "returned.",
    "dispute_limit_reached": "You have used your share of returns for the last 30 days: "
    "returns are limited to a share of the leads you bought.",
}

YES_NO = [SelectChoice("", "—"), SelectChoice("yes", "Yes"), SelectChoice("no", "No")]


def _note(label: str, message: str, description: str | None = None) -> TextAreaField:
    return TextAreaField(
        label,
        validators=[DataRequired(message), Length(max=MAX_NOTE)],
        description=description,
        render_kw={"rows": 4},
    )


def _answer(name: str) -> SelectField:
    # Checked by DecisionForm.validate, and only when they are needed (absent otherwise).
    return SelectField(BANT_LABELS[name], choices=YES_NO, validate_choice=False)


class DisputeForm(FlaskForm):
    reason = SelectField(
        "Reason",
        choices=[SelectChoice("", "Choose a reason")]
        + [SelectChoice(value, label) for value, label in REASON_LABELS.items()],
        validators=[InputRequired("Choose a reason.")],
    )
    note = _note(
        "Note",
        "Say what is wrong with the lead.",
        "What you found: the seller and Leadex staff read it.",
    )


class ResponseForm(FlaskForm):
    note = _note(
        "Your answer", "Write your answer.", "The buyer and Leadex staff read it before deciding."
    )


class DecisionForm(FlaskForm):
    """An admin's decision; ``reason`` (the dispute's) is set by the view before validating, so
    a ``misqualified`` acceptance asks for the four BANT answers."""

    decision = RadioField(
        "Decision",
        choices=[
            SelectChoice("accept", "Accept: credit the buyer, take the sale back"),
            SelectChoice("reject", "Reject: the seller keeps the sale"),
        ],
        validators=[InputRequired("Accept or reject.")],
    )
    budget = _answer("budget")
    authority = _answer("authority")
    need = _answer("need")
    timing = _answer("timing")
    note = _note("Note", "A note is required.", "Why: the buyer and the seller both read it.")

    reason: str | None = None

    def needs_answers(self) -> bool:
        return self.reason == "misqualified" and self.decision.data == "accept"

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if self.needs_answers():
            for name in BANT_LABELS:
                if self[name].data not in ("yes", "no"):
                    self[name].errors.append("Say yes or no.")
                    valid = False
        return valid

    def answers(self) -> dict | None:
        """The BANT the person gave, when accepting a misqualified dispute; else None."""
        if not self.needs_answers():
            return None
        return {name: self[name].data == "yes" for name in BANT_LABELS}
