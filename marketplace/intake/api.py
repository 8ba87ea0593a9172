"""/api/v1 endpoints of intake: upload a batch, follow it, read its rejections and leads."""

from flask import request

from app.api import PageArgs, api_auth, current_api_user, page_schema, paginate
from app.csvutil import csv_response
from app.errors import Invalid
from app.extensions import db
from marketplace import queries as market
from marketplace.blueprints import api_blp as blp
from marketplace.intake import queries, services
from marketplace.intake.schemas import (
    BatchAcceptedSchema,
    BatchFormArgs,
    BatchJsonArgs,
    RejectionArgs,
    RejectionSchema,
)
from marketplace.models import Batch, BatchRejection, Lead
from marketplace.schemas import BatchSchema, FullLeadSchema


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
        return services.create_csv_batch(
            user=user, stream=upload.stream, filename=upload.filename, **args
        )
    # A JSON body that does not parse is 400 malformed_json; any other content type gets the
    # hint below.
    body = request.get_json(silent=not request.is_json)
    if not isinstance(body, dict):
        raise Invalid(
            "Send a JSON object, or a multipart form with a CSV file.", code="bad_request"
        )
    # Before the schema: a huge list is refused as too large, not checked lead by lead.
    services.check_json_size(body.get("leads"))
    args = BatchJsonArgs().load(body)
    return services.create_json_batch(user=user, **args)


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
    counts = market.lead_counts([b.id for b in result["items"]])
    result["items"] = [market.describe_batch(b, counts.get(b.id, {})) for b in result["items"]]
    return result


@blp.get("/batches/<int:batch_id>")
@api_auth("seller", "admin")
@blp.response(200, BatchSchema)
def get_batch(batch_id):
    return market.describe_batch(
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
