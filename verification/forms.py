"""Web forms of verification (Flask-WTF, so each carries a CSRF token)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    FloatField,
    IntegerField,
    RadioField,
    SelectField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from app.settings import SETTINGS, Setting

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


class SettingsForm(FlaskForm):
    """The admin settings page: one field per key of ``app.settings.SETTINGS``.

    The fields only turn text into numbers; the bounds are checked once, by
    ``update_settings``, whose refusal ``form_post`` puts beside the field it names.
    """

    def changes(self) -> dict:
        return {key: self[key].data for key in SETTINGS}


def _setting_field(setting: Setting):
    required = InputRequired(f"Enter the {setting.label.split(' (')[0].lower()}.")
    if setting.nullable:
        required = Optional()  # left empty: null, the setting's default rule
    if setting.choices is not None:
        return SelectField(
            setting.label,
            choices=[SelectChoice(value, f"{value:.1f}") for value in setting.choices],
            coerce=setting.type,
            validators=[required],
            description=setting.description,
        )
    bounds = {
        name: value
        for name, value in (("min", setting.minimum), ("max", setting.maximum))
        if value is not None
    }
    if setting.type is int:
        return IntegerField(
            setting.label,
            validators=[required],
            description=setting.description,
            render_kw={**bounds, "step": 1, "inputmode": "numeric"},
        )
    return FloatField(
        setting.label,
        validators=[required],
        description=setting.description,
        render_kw={**bounds, "step": "any", "inputmode": "decimal"},
    )


for _key, _setting in SETTINGS.items():
    setattr(SettingsForm, _key, _setting_field(_setting))
