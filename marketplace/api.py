"""/api/v1 endpoints of the market: verticals and batches."""

from flask import request

from app.api import ApiBlueprint, PageArgs, api_auth, current_api_user, page_schema, paginate
from app.csvutil import csv_response
from app.errors import Invalid, TooLarge, error_responses
from app.extensions import db
from marketplace import queries, services
from marketplace.models import Batch, BatchRejection, Lead, Vertical
from marketplace.schemas import (
    BatchAcceptedSchema,
    BatchFormArgs,
    BatchJsonArgs,
    BatchSchema,
    FullLeadSchema,
    RejectionArgs,
    RejectionSchema,
    VerticalArgs,
    VerticalSchema,
    VerticalUpdateArgs,
)

blp = ApiBlueprint("market", __name__, url_prefix="/api/v1", description="Verticals and batches")


@blp.get("/verticals")
@api_auth()
@blp.response(200, page_schema(VerticalSchema, "VerticalList"))
def list_verticals():
    return {"items": db.session.scalars(queries.list_verticals()).all(), "next_cursor": None}


@blp.post("/batches")
@api_auth("seller")
@blp.doc(
    requestBody={
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "file": {"type": "string", "format": "binary"},
                        "vertical": {"type": "string"},
                        "price_cents": {"type": "integer"},
                        "max_sales": {"type": "integer"},
                        "name": {"type": "string"},
                    },
                    "required": ["file", "vertical", "price_cents"],
                }
            },
            "application/json": {"schema": BatchJsonArgs},
        }
    }
)
@blp.response(202, BatchAcceptedSchema)
def create_batch():
    user = current_api_user()
    if request.mimetype == "multipart/form-data":
        upload = request.files.get("file")
        if upload is None:
            raise Invalid(
                "Attach the CSV as the form field 'file'.",
                details={"file": ["Missing data for required field."]},
            )
        args = BatchFormArgs().load(request.form.to_dict())
        batch = services.create_csv_batch(
            user=user, stream=upload.stream, filename=upload.filename, **args
        )
    else:
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            raise Invalid(
                "Send a JSON object, or a multipart form with a CSV file.", code="bad_request"
            )
        leads = body.get("leads")
        if isinstance(leads, list) and len(leads) > services.MAX_JSON_LEADS:
            raise TooLarge(
                f"A JSON batch holds at most {services.MAX_JSON_LEADS:,} leads; "
                "upload larger batches as CSV.",
                details={"leads": len(leads), "limit": services.MAX_JSON_LEADS},
            )
        args = BatchJsonArgs().load(body)
        batch = services.create_json_batch(user=user, **args)
    view = queries.describe_batch(batch)
    return {"id": batch.id, "status": batch.status, "links": view["links"]}


@blp.get("/batches")
@api_auth("seller")
@blp.arguments(PageArgs, location="query")
@blp.response(200, page_schema(BatchSchema, "BatchPage"))
def list_batches(page):
    result = paginate(
        db.session,
        queries.list_batches(seller_id=current_api_user().organization_id),
        order=[(Batch.id, True)],
        **page,
    )
    counts = queries.lead_counts([b.id for b in result["items"]])
    result["items"] = [queries.describe_batch(b, counts.get(b.id, {})) for b in result["items"]]
    return result


@blp.get("/batches/<int:batch_id>")
@api_auth("seller", "admin")
@blp.response(200, BatchSchema)
def get_batch(batch_id):
    return queries.describe_batch(
        services.get_batch_for(user=current_api_user(), batch_id=batch_id)
    )


@blp.get("/batches/<int:batch_id>/rejections")
@blp.alt_response(200, schema={"type": "string"}, content_type="text/csv", success=True)
@api_auth("seller", "admin")
@blp.arguments(RejectionArgs, location="query")
@blp.response(200, page_schema(RejectionSchema, "RejectionPage"))
def list_rejections(args, batch_id):
    batch = services.get_batch_for(user=current_api_user(), batch_id=batch_id)
    stmt = queries.list_rejections(batch_id=batch.id)
    if args["format"] == "csv":
        return csv_response(
            queries.REJECTION_CSV_HEADER,
            queries.iter_rejection_rows(batch_id=batch.id),
            f"batch-{batch.id}-rejections.csv",
        )
    return paginate(
        db.session,
        stmt,
        order=[(BatchRejection.row_number, False), (BatchRejection.id, False)],
        cursor=args["cursor"],
        limit=args["limit"],
    )


@blp.get("/batches/<int:batch_id>/leads")
@api_auth("seller", "admin")
@blp.arguments(PageArgs, location="query")
@blp.response(200, page_schema(FullLeadSchema, "BatchLeadPage"))
def list_batch_leads(page, batch_id):
    batch = services.get_batch_for(user=current_api_user(), batch_id=batch_id)
    return paginate(
        db.session, queries.list_batch_leads(batch_id=batch.id), order=[(Lead.id, False)], **page
    )


@blp.get("/admin/verticals")
@api_auth("admin")
@blp.response(200, page_schema(VerticalSchema, "AdminVerticalList"))
def admin_list_verticals():
    stmt = queries.list_verticals(include_inactive=True)
    return {"items": db.session.scalars(stmt).all(), "next_cursor": None}


@blp.post("/admin/verticals")
@error_responses(409)  # the slug is taken
@api_auth("admin")
@blp.arguments(VerticalArgs)
@blp.response(201, VerticalSchema)
def admin_create_vertical(args):
    return services.create_vertical(actor=current_api_user(), **args)


@blp.put("/admin/verticals/<slug>")
@api_auth("admin")
@blp.arguments(VerticalUpdateArgs)
@blp.response(200, VerticalSchema)
def admin_update_vertical(args, slug):
    return services.update_vertical(actor=current_api_user(), slug=slug, **args)


__all__ = ["blp", "Vertical"]
