"""Web form of a new stream (Flask-WTF: every form carries a CSRF token)."""

from __future__ import annotations

from wtforms import IntegerField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

from marketplace.intake.forms import PricedForm
from marketplace.streams.schemas import MAX_STREAM_SALES


class StreamForm(PricedForm):
    vertical = SelectField("Vertical", validators=[DataRequired("Choose a vertical.")])
    name = StringField(
        "Name",
        validators=[DataRequired("Name the stream, like its form or source."), Length(max=200)],
        description="Where its leads come from, such as the form or the campaign.",
    )
    max_sales = IntegerField(
        "Buyers per lead",
        default=1,
        validators=[
            InputRequired("Say how many buyers may buy each lead."),
            NumberRange(1, MAX_STREAM_SALES, f"From 1 (exclusive) to {MAX_STREAM_SALES}."),
        ],
        description=f"1 sells each lead exclusively; up to {MAX_STREAM_SALES} shares it.",
        render_kw={"min": "1", "max": str(MAX_STREAM_SALES)},
    )

    def set_verticals(self, verticals) -> None:
        self.vertical.choices = [SelectChoice(v.slug, v.name) for v in verticals]
