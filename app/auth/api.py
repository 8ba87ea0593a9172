"""/api/v1 account endpoints: sign-up, tokens, me, the organisation's notifications."""

from app import notifications
from app.api import ApiBlueprint, PageArgs, api_auth, current_api_user, page_schema, paginate
from app.auth import queries, services, throttle
from app.auth.models import ApiToken
from app.auth.schemas import (
    MarkReadArgs,
    MarkReadResultSchema,
    MeSchema,
    NotificationListArgs,
    NotificationPageSchema,
    SignupArgs,
    SignupResultSchema,
    TokenArgs,
    TokenCreatedSchema,
    TokenSchema,
)
from app.errors import error_responses
from app.extensions import db

blp = ApiBlueprint("accounts", __name__, url_prefix="/api/v1", description="Accounts and tokens")


@blp.post("/signup")
@error_responses(409)  # the email is taken
@throttle.signup_per_ip
@blp.arguments(SignupArgs)
@blp.response(201, SignupResultSchema)
def signup(args):
    user = services.signup(**args)
    return {"user": user, "organization": user.organization}


@blp.post("/auth/tokens")
@error_responses(401)  # a wrong email and password
@throttle.login_per_ip
@blp.arguments(TokenArgs)
@blp.response(201, TokenCreatedSchema)
def create_token(args):
    throttle.check_login_allowed(args["email"])
    try:
        user = services.authenticate(email=args["email"], password=args["password"])
    except services.InvalidCredentials:
        throttle.record_login_failure(args["email"])
        raise
    record, token = services.create_token(user=user, name=args["name"])
    return {"id": record.id, "token": token, "expires_at": record.expires_at}


@blp.get("/auth/tokens")
@api_auth()
@blp.arguments(PageArgs, location="query")
@blp.response(200, page_schema(TokenSchema, "TokenPage"))
def list_tokens(page):
    stmt = queries.list_tokens(user=current_api_user())
    return paginate(db.session, stmt, order=[(ApiToken.id, True)], **page)


@blp.delete("/auth/tokens/<int:token_id>")
@api_auth()
@blp.response(204)
def revoke_token(token_id):
    services.revoke_token(user=current_api_user(), token_id=token_id)


@blp.get("/me")
@api_auth()
@blp.response(200, MeSchema)
def me():
    user = current_api_user()
    return {"user": user, "organization": user.organization, "role": user.role}


@blp.get("/notifications")
@api_auth()
@blp.arguments(NotificationListArgs, location="query")
@blp.response(200, NotificationPageSchema)
def list_notifications(args):
    """The caller's organisation's notifications, newest first, with how many are unread."""
    org_id = current_api_user().organization_id
    stmt = notifications.list_notifications(org_id, unread_only=args["unread"])
    page = paginate(
        db.session, stmt, order=notifications.ORDER, cursor=args["cursor"], limit=args["limit"]
    )
    return {**page, "unread_count": notifications.unread_count(org_id)}


@blp.post("/notifications/read")
@error_responses(404)  # the id names no notification of the caller's organisation
@api_auth()
@blp.arguments(MarkReadArgs, required=False)
@blp.response(200, MarkReadResultSchema)
def mark_notifications_read(args):
    """Mark one notification read (`{"id": ...}`), or all of them (no body, or `{}`)."""
    org_id = current_api_user().organization_id
    marked = notifications.mark_read(organization_id=org_id, notification_id=args.get("id"))
    return {"marked": marked, "unread_count": notifications.unread_count(org_id)}
