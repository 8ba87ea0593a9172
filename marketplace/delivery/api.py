"""/api/v1 endpoints of delivery: the buyer's webhook, its secret, and the attempts."""

from app.api import PageArgs, api_auth, current_api_user, page_schema, paginate
from app.errors import error_responses
from app.extensions import db
from marketplace.blueprints import api_blp as blp
from marketplace.delivery import services
from marketplace.delivery.models import DeliveryAttempt
from marketplace.delivery.schemas import DeliveryArgs, DeliveryAttemptSchema, DeliverySchema


@blp.get("/delivery")
@api_auth("buyer")
@blp.response(200, DeliverySchema)
def get_delivery():
    return services.get_endpoint(buyer=current_api_user())


@blp.put("/delivery")
@error_responses(422)  # not http(s), or a non-public address in production
@api_auth("buyer")
@blp.arguments(DeliveryArgs)
@blp.response(200, DeliverySchema)
def put_delivery(args):
    return services.set_endpoint(buyer=current_api_user(), **args)


@blp.post("/delivery/secret")
@error_responses(404)  # no URL set yet
@api_auth("buyer")
@blp.response(200, DeliverySchema)
def rotate_delivery_secret():
    return services.rotate_secret(buyer=current_api_user())


@blp.get("/delivery/attempts")
@api_auth("buyer")
@blp.arguments(PageArgs, location="query")
@blp.response(200, page_schema(DeliveryAttemptSchema, "DeliveryAttemptPage"))
def list_delivery_attempts(page):
    stmt = services.attempts_query(buyer=current_api_user())
    return paginate(db.session, stmt, order=[(DeliveryAttempt.id, True)], **page)


@blp.post("/delivery/attempts/<int:attempt_id>/resend")
@error_responses(404)  # another buyer's attempt, or no active URL
@api_auth("buyer")
@blp.response(202, DeliveryAttemptSchema)
def resend_delivery_attempt(attempt_id):
    return services.resend(buyer=current_api_user(), attempt_id=attempt_id)
