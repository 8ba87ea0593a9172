"""API schemas of intake: the upload's Args, the accepted answer, rejections."""

import marshmallow as ma
from marshmallow import fields, validate

from app.api import PageArgs
from marketplace.models import Batch
from marketplace.schemas import LinksSchema, batch_links


class BatchJsonArgs(ma.Schema):
    vertical = fields.String(required=True, validate=validate.Length(max=64))
    price_cents = fields.Integer(required=True, strict=True)
    max_sales = fields.Integer(load_default=1, strict=True)
    name = fields.String(load_default=None, validate=validate.Length(max=200))
    leads = fields.List(fields.Dict(), required=True)


class BatchFormArgs(ma.Schema):
    vertical = fields.String(required=True, validate=validate.Length(max=64))
    price_cents = fields.Integer(required=True)
    max_sales = fields.Integer(load_default=1)
    name = fields.String(load_default=None, validate=validate.Length(max=200))


class RejectionArgs(PageArgs):
    format = fields.String(load_default="json", validate=validate.OneOf(["json", "csv"]))


class BatchAcceptedSchema(ma.Schema):
    id = fields.Integer()
    status = fields.String()
    links = fields.Nested(LinksSchema)

    @ma.pre_dump
    def _add_links(self, batch: Batch, **_kwargs) -> dict:
        return {"id": batch.id, "status": batch.status, "links": batch_links(batch.id)}


class RejectionSchema(ma.Schema):
    row = fields.Integer(attribute="row_number")
    field = fields.String()
    code = fields.String()
    message = fields.String()
    details = fields.Dict(allow_none=True)
