"""Errors of delivery: subclasses of app.errors, answered by the one handler."""

from app.errors import Invalid, NotFound


class DeliveryAttemptNotFound(NotFound):
    message = "There is no such delivery attempt."


class DeliveryNotSet(NotFound):
    message = "No delivery URL is set."


class InvalidDeliveryUrl(Invalid):
    code = "invalid_url"
    message = "The delivery URL must be http(s) to a public address."
