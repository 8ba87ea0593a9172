"""Web form of buying from the market: the confirmation (Flask-WTF: it carries a CSRF token)."""

from __future__ import annotations

from wtforms import IntegerField
from wtforms.validators import InputRequired, NumberRange
from wtforms.widgets import HiddenInput

from app.web.forms import OnceForm


class ConfirmPurchaseForm(OnceForm):
    """The buyer confirms the total it was shown; a price moved since is ``price_changed``."""

    expected_total_cents = IntegerField(
        widget=HiddenInput(), validators=[InputRequired(), NumberRange(min=0)]
    )
