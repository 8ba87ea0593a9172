"""/api/v1 endpoints of the listings: the market (masked), one lead, sellers' withdrawals and
price changes, and the admin's suppression list."""

from app.api import PageArgs, api_auth, current_api_user, page_schema, paginate
from app.errors import error_responses
from app.extensions import db
from marketplace import queries as market
from marketplace import suppressions
from marketplace.blueprints import api_blp as blp
from marketplace.listings import services
from marketplace.listings.schemas import (
    BatchPriceArgs,
    LeadFilterArgs,
    LeadPreviewSchema,
    SuppressionArgs,
    SuppressionSchema,
)
from marketplace.models import Suppression
from marketplace.schemas import BatchSchema, FullLeadSchema


@blp.get("/leads")
@api_auth()
@blp.arguments(LeadFilterArgs, location="query")
@blp.response(200, page_schema(LeadPreviewSchema, "LeadPreviewPage"))
def list_leads(args):
    page = {key: args.pop(key) for key in ("sort", "cursor", "limit")}
    return services.search_market(filters=args, **page)


@blp.get("/leads/<int:lead_id>")
@api_auth()
@blp.doc(
    responses={
        200: {
            "description": "The lead: masked, or full for its seller and admins.",
            "content": {
                "application/json": {
                    "schema": {"oneOf": [LeadPreviewSchema, FullLeadSchema]},
                }
            },
        }
    }
)
def get_lead(lead_id):
    lead, full = services.get_lead_view(user=current_api_user(), lead_id=lead_id)
    return (FullLeadSchema() if full else LeadPreviewSchema()).dump(lead)


@blp.post("/leads/<int:lead_id>/withdraw")
@error_responses(409)  # the lead is not listed
@api_auth("seller", "admin")
@blp.response(200, FullLeadSchema)
def withdraw_lead(lead_id):
    return services.withdraw_lead(actor=current_api_user(), lead_id=lead_id)


@blp.patch("/batches/<int:batch_id>")
@error_responses(409)  # the batch is processing, rejected or withdrawn
@api_auth("seller")
@blp.arguments(BatchPriceArgs)
@blp.response(200, BatchSchema)
def change_batch_price(args, batch_id):
    batch = services.change_batch_price(actor=current_api_user(), batch_id=batch_id, **args)
    return market.describe_batch(batch)


@blp.post("/batches/<int:batch_id>/withdraw")
@error_responses(409)  # the batch is not listed
@api_auth("seller", "admin")
@blp.response(200, BatchSchema)
def withdraw_batch(batch_id):
    batch = services.withdraw_batch(actor=current_api_user(), batch_id=batch_id)
    return market.describe_batch(batch)


@blp.get("/admin/suppressions")
@api_auth("admin")
@blp.arguments(PageArgs, location="query")
@blp.response(200, page_schema(SuppressionSchema, "SuppressionPage"))
def list_suppressions(page):
    return paginate(
        db.session, suppressions.list_suppressions(), order=[(Suppression.id, True)], **page
    )


@blp.post("/admin/suppressions")
@api_auth("admin")
@blp.arguments(SuppressionArgs)
@blp.response(201, SuppressionSchema)
def add_suppression(args):
    return suppressions.add_suppression(actor=current_api_user(), **args)


@blp.delete("/admin/suppressions/<int:suppression_id>")
@api_auth("admin")
@blp.response(204)
def remove_suppression(suppression_id):
    suppressions.remove_suppression(actor=current_api_user(), suppression_id=suppression_id)
