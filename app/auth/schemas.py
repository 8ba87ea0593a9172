"""API schemas for accounts: input Args and output Schemas kept apart."""

import marshmallow as ma
from marshmallow import fields, validate

from app.api import PageArgs
from app.fields import Id


class SignupArgs(ma.Schema):
    email = fields.String(required=True, validate=validate.Length(min=3, max=320))
    password = fields.String(required=True, validate=validate.Length(min=1, max=1024))
    organization_name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    kind = fields.String(required=True, validate=validate.OneOf(["seller", "buyer"]))


class TokenArgs(ma.Schema):
    email = fields.String(required=True, validate=validate.Length(max=320))
    password = fields.String(required=True, validate=validate.Length(max=1024))
    name = fields.String(load_default=None, validate=validate.Length(max=100))


class UserSchema(ma.Schema):
    id = fields.Integer()
    email = fields.String()
    created_at = fields.AwareDateTime()


class OrganizationSchema(ma.Schema):
    id = fields.Integer()
    name = fields.String()
    kind = fields.String()


class SignupResultSchema(ma.Schema):
    user = fields.Nested(UserSchema)
    organization = fields.Nested(OrganizationSchema)


class MeSchema(SignupResultSchema):
    role = fields.String()


class TokenCreatedSchema(ma.Schema):
    id = fields.Integer()
    token = fields.String()
    expires_at = fields.AwareDateTime()


class TokenSchema(ma.Schema):
    id = fields.Integer()
    name = fields.String(allow_none=True)
    prefix = fields.String()
    created_at = fields.AwareDateTime()
    expires_at = fields.AwareDateTime()
    last_used_at = fields.AwareDateTime(allow_none=True)


class NotificationListArgs(PageArgs):
    unread = fields.Boolean(
        load_default=False, metadata={"description": "Only the notifications not read yet."}
    )


class NotificationSchema(ma.Schema):
    id = fields.Integer()
    kind = fields.String(metadata={"description": "What happened, e.g. `dispute_opened`."})
    message = fields.String()
    link = fields.String(
        allow_none=True, metadata={"description": "Where to look: a path of the web app."}
    )
    created_at = fields.AwareDateTime()
    read_at = fields.AwareDateTime(allow_none=True)


class NotificationPageSchema(ma.Schema):
    items = fields.List(fields.Nested(NotificationSchema))
    next_cursor = fields.String(allow_none=True)
    unread_count = fields.Integer()


class MarkReadArgs(ma.Schema):
    id = Id(
        load_default=None,
        metadata={"description": "The notification to mark read; without it, all of them."},
    )


class MarkReadResultSchema(ma.Schema):
    marked = fields.Integer(metadata={"description": "How many were unread and now are read."})
    unread_count = fields.Integer()
