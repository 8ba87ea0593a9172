"""/api/v1 endpoints of real-time streams: a seller's streams, pings and posts."""

from app.api import PageArgs, api_auth, current_api_user, page_schema, paginate
from app.errors import error_responses
from app.extensions import db
from app.idempotency import idempotent
from marketplace.blueprints import api_blp as blp
from marketplace.streams import services
from marketplace.streams.models import Stream
from marketplace.streams.schemas import (
    LeadValuesArgs,
    PingSchema,
    PostArgs,
    PostSchema,
    StreamArgs,
    StreamPatchArgs,
    StreamSchema,
)


@blp.post("/streams")
@error_responses(404)
@api_auth("seller")
@blp.arguments(StreamArgs)
@blp.response(201, StreamSchema)
def create_stream(args):
    stream = services.create_stream(seller=current_api_user(), **args)
    return services.describe_stream(stream)


@blp.get("/streams")
@api_auth("seller", "admin")
@blp.arguments(PageArgs, location="query")
@blp.response(200, page_schema(StreamSchema, "StreamPage"))
def list_streams(page):
    stmt = services.list_streams(actor=current_api_user())
    result = paginate(db.session, stmt, order=[(Stream.id, True)], **page)
    result["items"] = [services.describe_stream(stream) for stream in result["items"]]
    return result


@blp.get("/streams/<int:stream_id>")
@error_responses(404)
@api_auth("seller", "admin")
@blp.response(200, StreamSchema)
def get_stream(stream_id):
    stream = services.get_stream(actor=current_api_user(), stream_id=stream_id)
    return services.describe_stream(stream)


@blp.patch("/streams/<int:stream_id>")
@error_responses(404, 409)
@api_auth("seller", "admin")
@blp.arguments(StreamPatchArgs)
@blp.response(200, StreamSchema)
def update_stream(args, stream_id):
    stream = services.update_stream(actor=current_api_user(), stream_id=stream_id, **args)
    return services.describe_stream(stream)


@blp.post("/streams/<int:stream_id>/pings")
@error_responses(404, 409)
@api_auth("seller")
@blp.arguments(LeadValuesArgs)
@blp.response(200, PingSchema)
def ping_stream(args, stream_id):
    return services.ping_stream(
        seller=current_api_user(), stream_id=stream_id, values=args["values"]
    )


@blp.post("/streams/<int:stream_id>/leads")
@error_responses(404, 409)
@api_auth("seller")
@idempotent()
@blp.arguments(PostArgs)
@blp.response(201, PostSchema)
def post_lead(args, stream_id):
    return services.post_lead(seller=current_api_user(), stream_id=stream_id, **args)
