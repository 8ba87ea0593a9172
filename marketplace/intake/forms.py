"""Web forms of the seller's batch upload (Flask-WTF: every form carries a CSRF token)."""

from __future__ import annotations

from decimal import Decimal

from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import DecimalField, IntegerField, RadioField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from app.money import CENT, to_cents
from marketplace.intake.services import MAX_PRICE_CENTS, MAX_SALES
from verification.rules.columns import LEAD_COLUMNS

MAX_PRICE = Decimal(MAX_PRICE_CENTS) / 100
MIN_SHARED_SALES = 2
KEEP_AS_EXTRA = ""

# How the mapping step groups the Leadex columns in its drop-downs (display only).
_COLUMN_GROUPS = {
    "Contact": ("first_name", "last_name", "email", "phone", "company", "job_title"),
    "Place": ("country", "region", "city", "postal_code", "address"),
    "Consent": (
        "captured_at",
        "consent_text",
        "consented_at",
        "consent_ip",
        "consent_url",
        "consent_certificate",
    ),
}
_GROUP_OF = {column: group for group, columns in _COLUMN_GROUPS.items() for column in columns}


def _whole_cents(form, field) -> None:
    price = field.data
    if price is None:
        return
    if not price.is_finite() or not CENT <= price <= MAX_PRICE:
        raise ValidationError(f"A price from $0.01 to ${MAX_PRICE:,.2f}.")
    if price % CENT:
        raise ValidationError("Whole cents only, like 12.50.")


class PricedForm(FlaskForm):
    """A price per lead typed in dollars, within the upload's bounds."""

    price = DecimalField(
        "Price per lead (USD)",
        places=2,
        validators=[InputRequired("Give a price per lead."), _whole_cents],
        render_kw={"step": "0.01", "min": "0.01", "max": str(MAX_PRICE), "inputmode": "decimal"},
    )

    @property
    def price_cents(self) -> int:
        """The validated price as integer cents, computed in Decimal (never a float)."""
        return to_cents(self.price.data)


class BatchUploadForm(PricedForm):
    """Step 1: the file and the terms it is sold on."""

    file = FileField(
        "CSV file",
        validators=[
            FileRequired("Choose a CSV file."),
            FileAllowed(["csv"], "Upload a .csv file."),
        ],
        description="UTF-8, comma- or semicolon-separated, with a header row.",
        render_kw={"accept": ".csv,text/csv"},
    )
    vertical = SelectField("Vertical", validators=[DataRequired()])
    terms = RadioField(
        "Sold",
        choices=[
            SelectChoice("exclusive", "Exclusive (sold once)"),
            SelectChoice("shared", "Shared"),
        ],
        default="exclusive",
        validators=[DataRequired()],
    )
    max_sales = IntegerField(
        "Buyers per lead (shared only)",
        default=MIN_SHARED_SALES,
        validators=[Optional()],
        description=f"A shared lead is sold to {MIN_SHARED_SALES} to {MAX_SALES} buyers.",
        render_kw={"min": str(MIN_SHARED_SALES), "max": str(MAX_SALES)},
    )
    name = StringField(
        "Batch name (optional)",
        validators=[Optional(), Length(max=200)],
        description="Defaults to the file name.",
    )

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if self.terms.data == "shared":
            sales = self.max_sales.data
            if not self.max_sales.errors and (
                sales is None or not MIN_SHARED_SALES <= sales <= MAX_SALES
            ):
                self.max_sales.errors.append(
                    f"A shared lead goes to {MIN_SHARED_SALES} to {MAX_SALES} buyers."
                )
                valid = False
        elif self.max_sales.errors:
            # An exclusive batch ignores the field, so a stray value there is no error.
            self.max_sales.errors = []
            valid = not self.errors
        return valid

    def set_verticals(self, verticals) -> None:
        self.vertical.choices = [SelectChoice(v.slug, v.name) for v in verticals]

    @property
    def sales_limit(self) -> int:
        return self.max_sales.data if self.terms.data == "shared" else 1


class ColumnMapForm(FlaskForm):
    """Step 2: one drop-down per header that is not a Leadex column; fields are added per file."""


def column_choices(extra_required: tuple[str, ...] = ()) -> list[SelectChoice]:
    choices = [SelectChoice(KEEP_AS_EXTRA, "Keep as extra data")]
    choices += [
        SelectChoice(c, c, optgroup=_GROUP_OF.get(c, "Qualification")) for c in LEAD_COLUMNS
    ]
    choices += [
        SelectChoice(c, c, optgroup="This vertical")
        for c in extra_required
        if c not in LEAD_COLUMNS
    ]
    # The widget groups consecutive choices, so keep each group together.
    order = ["Contact", "Place", "Consent", "Qualification", "This vertical"]
    return [choices[0]] + sorted(choices[1:], key=lambda c: order.index(c.optgroup))


def column_map_form(
    selects: list[tuple[str, str, str]], choices: list[SelectChoice], **kwargs
) -> ColumnMapForm:
    """A mapping form with a ``SelectField`` per ``(field_name, header, default)``."""

    class Form(ColumnMapForm):
        pass

    for field_name, header, default in selects:
        setattr(Form, field_name, SelectField(header, choices=choices, default=default))
    return Form(**kwargs)


class BatchPriceForm(PricedForm):
    """A new price for the batch's leads still for sale (the upload's bounds)."""


class WithdrawForm(FlaskForm):
    """Taking a batch or a lead off sale: nothing to type, the CSRF token only."""
