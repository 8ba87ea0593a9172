"""/api/v1 endpoints of purchases: buy leads, read purchases and bought leads, export, outcomes."""

from app.api import PageArgs, api_auth, current_api_user, page_schema, paginate
from app.csvutil import csv_response
from app.errors import error_responses
from app.extensions import db
from app.idempotency import current_key, idempotent
from marketplace.blueprints import api_blp as blp
from marketplace.purchases import queries, services
from marketplace.purchases.models import Purchase
from marketplace.purchases.schemas import (
    LeadOutcomeArgs,
    PurchaseArgs,
    PurchasedLeadArgs,
    PurchasedLeadSchema,
    PurchaseSchema,
)


@blp.post("/purchases")
@error_responses(402, 404, 409)  # wallet too low; unknown lead; bought, unavailable, price moved
@api_auth("buyer")
@idempotent()
@blp.arguments(PurchaseArgs)
@blp.response(201, PurchaseSchema)
def create_purchase(args):
    return services.purchase_leads(buyer=current_api_user(), idempotency_key=current_key(), **args)


@blp.get("/purchases")
@api_auth("buyer")
@blp.arguments(PageArgs, location="query")
@blp.response(200, page_schema(PurchaseSchema, "PurchasePage"))
def list_purchases(page):
    stmt = queries.list_purchases(buyer_org_id=current_api_user().organization_id)
    return paginate(db.session, stmt, order=[(Purchase.id, True)], **page)


@blp.get("/purchases/<int:purchase_id>")
@api_auth("buyer")
@blp.response(200, PurchaseSchema)
def get_purchase(purchase_id):
    return queries.get_purchase_for(
        buyer_org_id=current_api_user().organization_id, purchase_id=purchase_id
    )


@blp.get("/purchases/<int:purchase_id>/export.csv")
@api_auth("buyer")
@blp.response(200, {"type": "string"}, content_type="text/csv")
def export_purchase(purchase_id):
    purchase = queries.get_purchase_for(
        buyer_org_id=current_api_user().organization_id, purchase_id=purchase_id
    )
    return csv_response(
        queries.EXPORT_HEADER,
        list(queries.iter_export_rows(purchase=purchase)),
        f"purchase-{purchase.id}.csv",
    )


@blp.get("/purchased-leads")
@api_auth("buyer")
@blp.arguments(PurchasedLeadArgs, location="query")
@blp.response(200, page_schema(PurchasedLeadSchema, "PurchasedLeadPage"))
def list_purchased_leads(args):
    stmt = queries.list_purchased_leads(
        buyer_org_id=current_api_user().organization_id,
        outcome=args["outcome"],
        purchase_id=args["purchase_id"],
    )
    return paginate(
        db.session,
        stmt,
        order=queries.PURCHASED_LEADS_ORDER,
        cursor=args["cursor"],
        limit=args["limit"],
    )


@blp.put("/purchased-leads/<int:lead_id>/outcome")
@api_auth("buyer")
@blp.arguments(LeadOutcomeArgs)
@blp.response(200, PurchasedLeadSchema)
def set_outcome(args, lead_id):
    return services.record_outcome(buyer=current_api_user(), lead_id=lead_id, **args)
