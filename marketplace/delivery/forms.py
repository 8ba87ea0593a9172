"""Web forms of the buyer's delivery settings (Flask-WTF: every form carries a CSRF token)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField
from wtforms.validators import InputRequired, Length


class DeliveryForm(FlaskForm):
    """The webhook URL; whether it is a URL Leadex may call is the service's rule."""

    url = StringField(
        "Webhook URL",
        validators=[InputRequired("Give the URL that receives your leads."), Length(max=2048)],
        description="Each bought lead is POSTed here as JSON, signed with your secret.",
    )
    active = BooleanField("Deliver each purchase to this URL", default=True)
