"""/api/v1 endpoints of verticals: the list every account reads, and the admin's changes.

Each capability's endpoints are in its own api.py (marketplace/intake/api.py: batches).
"""

from app.api import api_auth, current_api_user, page_schema
from app.errors import error_responses
from app.extensions import db
from marketplace import verticals
from marketplace.blueprints import api_blp as blp
from marketplace.schemas import VerticalArgs, VerticalSchema, VerticalUpdateArgs


@blp.get("/verticals")
@api_auth()
@blp.response(200, page_schema(VerticalSchema, "VerticalList"))
def list_verticals():
    return {"items": db.session.scalars(verticals.list_verticals()).all(), "next_cursor": None}


@blp.get("/admin/verticals")
@api_auth("admin")
@blp.response(200, page_schema(VerticalSchema, "AdminVerticalList"))
def admin_list_verticals():
    stmt = verticals.list_verticals(include_inactive=True)
    return {"items": db.session.scalars(stmt).all(), "next_cursor": None}


@blp.post("/admin/verticals")
@error_responses(409)  # the slug is taken
@api_auth("admin")
@blp.arguments(VerticalArgs)
@blp.response(201, VerticalSchema)
def admin_create_vertical(args):
    return verticals.create_vertical(actor=current_api_user(), **args)


@blp.put("/admin/verticals/<slug>")
@api_auth("admin")
@blp.arguments(VerticalUpdateArgs)
@blp.response(200, VerticalSchema)
def admin_update_vertical(args, slug):
    return verticals.update_vertical(actor=current_api_user(), slug=slug, **args)
