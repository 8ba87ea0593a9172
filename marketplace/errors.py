"""The market's errors: subclasses of app.errors, so one handler answers them everywhere."""

from app.errors import Conflict, Invalid


class VerticalNotFound(Invalid):
    code = "unknown_vertical"
    message = "There is no such vertical."


class BatchNotInSpotCheck(Conflict):
    code = "batch_not_in_spot_check"
    message = "The batch is not waiting for its spot-check any more."
