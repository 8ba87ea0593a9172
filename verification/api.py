"""/api/v1 endpoints of verification: the spot-check queue, quality figures, holds, re-checks."""

from app.api import ApiBlueprint, api_auth, current_api_user, page_schema, paginate
from app.errors import NotFound, error_responses
from app.extensions import db
from app.settings import SettingsArgs, SettingsSchema, settings_dict, update_settings
from marketplace import queries as market
from verification import queries, services
from verification.schemas import (
    HoldArgs,
    OutcomeArgs,
    OutcomeResultSchema,
    QualityFiguresSchema,
    RecheckSchema,
    SellerQualitySchema,
    SpotCheckItemSchema,
    SpotCheckListArgs,
)

blp = ApiBlueprint(
    "verify",
    __name__,
    url_prefix="/api/v1",
    description="Spot-checks, seller quality figures, holds and re-checks",
)


@blp.get("/spot-checks")
@api_auth("admin")
@blp.arguments(SpotCheckListArgs, location="query")
@blp.response(200, page_schema(SpotCheckItemSchema, "SpotCheckPage"))
def list_spot_checks(args):
    """Sampled leads with the call script, oldest batch first."""
    stmt = queries.list_items(status=args["status"], batch_id=args["batch_id"])
    return paginate(
        db.session, stmt, order=queries.QUEUE_ORDER, cursor=args["cursor"], limit=args["limit"]
    )


@blp.post("/spot-checks/<int:item_id>")
@error_responses(409)  # already recorded, or no longer needed
@api_auth("admin")
@blp.arguments(OutcomeArgs)
@blp.response(200, OutcomeResultSchema)
def record_spot_check(args, item_id):
    """Record what the sampled person said; 409 when an outcome is already recorded."""
    item = services.record_outcome(actor=current_api_user(), item_id=item_id, **args)
    return {"item": item, "batch": market.describe_batch(market.get_batch(item.batch_id))}


@blp.get("/seller/quality")
@api_auth("seller")
@blp.response(200, QualityFiguresSchema)
def seller_quality():
    """The signed-in seller's own quality figures."""
    return queries.seller_quality(current_api_user().organization_id)


@blp.get("/sellers/<int:seller_id>/quality")
@error_responses(404)  # no seller organisation has this id
@api_auth()
@blp.response(200, QualityFiguresSchema)
def public_seller_quality(seller_id):
    """A seller's quality figures, for any signed-in account (the market's seller badge)."""
    seller = queries.get_seller(seller_id)
    if seller is None:
        raise NotFound("No such seller.")
    return queries.seller_quality(seller.id)


@blp.get("/admin/sellers")
@api_auth("admin")
@blp.response(200, page_schema(SellerQualitySchema, "SellerQualityList"))
def admin_list_sellers():
    """Every seller with its quality figures."""
    return {"items": queries.sellers_with_quality(), "next_cursor": None}


def _seller_row(seller) -> dict:
    return {"id": seller.id, "name": seller.name, **queries.seller_quality(seller.id)}


@blp.post("/admin/sellers/<int:seller_id>/hold")
@error_responses(409)  # already on hold
@api_auth("admin")
@blp.arguments(HoldArgs)
@blp.response(200, SellerQualitySchema)
def hold_seller(args, seller_id):
    """Put a seller on hold: new batches stop after intake, listed leads are paused."""
    seller = services.hold_seller(actor=current_api_user(), seller_id=seller_id, **args)
    return _seller_row(seller)


@blp.delete("/admin/sellers/<int:seller_id>/hold")
@error_responses(409)  # not on hold
@api_auth("admin")
@blp.arguments(HoldArgs)
@blp.response(200, SellerQualitySchema)
def clear_hold(args, seller_id):
    """Clear a hold: paused leads return, held batches go on to spot-check."""
    seller = services.clear_hold(actor=current_api_user(), seller_id=seller_id, **args)
    return _seller_row(seller)


@blp.post("/admin/leads/<int:lead_id>/recheck")
@api_auth("admin")
@blp.response(200, RecheckSchema)
def recheck_lead(lead_id):
    """Run the automatic checks on a stored lead again; says what changed and what fails."""
    return services.recheck_lead(actor=current_api_user(), lead_id=lead_id)


@blp.get("/admin/settings")
@api_auth("admin")
@blp.response(200, SettingsSchema)
def get_platform_settings():
    """The platform settings an admin may change: fee, sampling AQL, dispute limits, windows."""
    return settings_dict()


@blp.put("/admin/settings")
@api_auth("admin")
@blp.arguments(SettingsArgs)
@blp.response(200, SettingsSchema)
def put_platform_settings(args):
    """Change some settings (a partial update: keys left out keep their values).

    The keys sent change and the keys left out keep their values; send every key to replace
    them all. One value out of its bounds, of the wrong JSON type (`"90"`, `90.0`, `true`), or
    an unknown key is 422 and nothing changes. Each change is in the audit log with its old
    and new value. Answers every setting as it now is.
    """
    return settings_dict(update_settings(actor=current_api_user(), changes=args))
