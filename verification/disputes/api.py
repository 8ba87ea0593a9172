"""/api/v1 endpoints of disputes: a buyer returns a lead, the seller answers, an admin decides."""

from app.api import ApiBlueprint, api_auth, current_api_user, page_schema, paginate
from app.errors import error_responses
from app.extensions import db
from app.idempotency import idempotent
from verification.disputes import queries, services
from verification.disputes.schemas import (
    DisputeArgs,
    DisputeListArgs,
    DisputeResponseSchema,
    DisputeSchema,
    ResolutionArgs,
    ResponseArgs,
)

blp = ApiBlueprint(
    "disputes",
    __name__,
    url_prefix="/api/v1",
    description="Returns of bought leads: evidence, the seller's answer, an admin's decision",
)


@blp.post("/disputes")
@error_responses(404, 409)  # lead not bought by you; already returned, or its sale released
@api_auth("buyer")
@idempotent()
@blp.arguments(DisputeArgs)
@blp.response(201, DisputeSchema)
def open_dispute(args):
    """Return a bought lead, once, before its return deadline.

    422 `return_window_closed` (with `details.window_closed_at`) after the deadline; 422
    `dispute_limit_reached` over the buyer's share of returns (30 days); 409 `already_disputed`;
    409 `sale_released` when the seller's earnings were released meanwhile. Evidence that proves
    the buyer right (an invalid phone or email, the same person sold before) accepts it at once.
    """
    return services.open_dispute(actor=current_api_user(), **args)


@blp.get("/disputes")
@api_auth("buyer", "seller", "admin")
@blp.arguments(DisputeListArgs, location="query")
@blp.response(200, page_schema(DisputeSchema, "DisputePage"))
def list_disputes(args):
    """Buyers: their returns; sellers: returns of their leads; admins: all. Newest first."""
    stmt = queries.list_disputes(current_api_user(), status=args["status"])
    return paginate(
        db.session, stmt, order=queries.LIST_ORDER, cursor=args["cursor"], limit=args["limit"]
    )


@blp.get("/disputes/<int:dispute_id>")
@error_responses(404)
@api_auth("buyer", "seller", "admin")
@blp.response(200, DisputeSchema)
def get_dispute(dispute_id):
    return queries.get_dispute_for(current_api_user(), dispute_id)


@blp.post("/disputes/<int:dispute_id>/responses")
@error_responses(404, 409)  # not a dispute on your lead; answer window closed
@api_auth("seller")
@blp.arguments(ResponseArgs)
@blp.response(201, DisputeResponseSchema)
def respond(args, dispute_id):
    """The seller's answer, until the dispute's `deadline`; then 409 `response_window_closed`."""
    return services.respond(actor=current_api_user(), dispute_id=dispute_id, **args)


@blp.post("/disputes/<int:dispute_id>/resolution")
@error_responses(404, 409)  # no such dispute; already resolved
@api_auth("admin")
@idempotent()
@blp.arguments(ResolutionArgs)
@blp.response(200, DisputeSchema)
def resolve(args, dispute_id):
    """Accept (the buyer is credited and the sale taken back, once) or reject, with a note.

    Accepting a `misqualified` dispute needs `answers` (the four BANT booleans); a dispute
    already resolved is 409 `dispute_already_resolved`.
    """
    return services.resolve_dispute(actor=current_api_user(), dispute_id=dispute_id, **args)
