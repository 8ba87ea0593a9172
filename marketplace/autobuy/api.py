"""/api/v1 endpoints of saved searches: a buyer's own named filters and auto-buy orders."""

from app.api import PageArgs, api_auth, current_api_user, page_schema, paginate
from app.errors import error_responses
from app.extensions import db
from marketplace.autobuy import services
from marketplace.autobuy.models import SavedSearch
from marketplace.autobuy.schemas import SavedSearchArgs, SavedSearchSchema
from marketplace.blueprints import api_blp as blp


@blp.get("/saved-searches")
@api_auth("buyer")
@blp.arguments(PageArgs, location="query")
@blp.response(200, page_schema(SavedSearchSchema, "SavedSearchPage"))
def list_saved_searches(page):
    stmt = services.list_saved_searches(buyer_org_id=current_api_user().organization_id)
    return paginate(db.session, stmt, order=[(SavedSearch.id, True)], **page)


@blp.post("/saved-searches")
@api_auth("buyer")
@blp.arguments(SavedSearchArgs)
@blp.response(201, SavedSearchSchema)
def create_saved_search(args):
    return services.create_saved_search(buyer=current_api_user(), **args)


@blp.get("/saved-searches/<int:search_id>")
@error_responses(404)
@api_auth("buyer")
@blp.response(200, SavedSearchSchema)
def get_saved_search(search_id):
    return services.get_saved_search(
        buyer_org_id=current_api_user().organization_id, search_id=search_id
    )


@blp.put("/saved-searches/<int:search_id>")
@error_responses(404)
@api_auth("buyer")
@blp.arguments(SavedSearchArgs)
@blp.response(200, SavedSearchSchema)
def replace_saved_search(args, search_id):
    return services.replace_saved_search(buyer=current_api_user(), search_id=search_id, **args)


@blp.delete("/saved-searches/<int:search_id>")
@error_responses(404)
@api_auth("buyer")
@blp.response(204)
def delete_saved_search(search_id):
    services.delete_saved_search(buyer=current_api_user(), search_id=search_id)
