"""Account use cases: sign up, sign in, passwords, sessions, API tokens, the audit log."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from sqlalchemy import delete, or_, select, update
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from app.auth.models import KIND_BY_ROLE, ApiToken, AuditEntry, Organization, User
from app.auth.passwords import password_problems
from app.db import db, transaction, utcnow
from app.errors import Conflict, Forbidden, Invalid, NotFound, Unauthorized

TOKEN_PREFIX = "ldx_"
PLATFORM_ORG_NAME = "Leadex staff"
# A used token's last_used_at is written at most this often, so reads do not become writes.
LAST_USED_RESOLUTION = timedelta(minutes=1)
# A dummy hash to compare against for unknown emails, so timing does not reveal accounts.
_DUMMY_HASH = None


class EmailTaken(Conflict):
    code = "email_taken"
    message = "An account with this email already exists."


class InvalidCredentials(Unauthorized):
    code = "invalid_credentials"
    message = "The email and password do not match an account."


class WrongCurrentPassword(Invalid):
    code = "wrong_password"
    message = "The current password is not right."


def normalize_email(email: str) -> str:
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise Invalid("The email address is not valid.", details={"email": [str(exc)]}) from exc


def _hash_password(password: str) -> str:
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


def check_password_rules(password: str, *, email: str = "", organization_name: str = "") -> None:
    problems = password_problems(password, email=email, organization_name=organization_name)
    if problems:
        raise Invalid("The password does not meet the rules.", details={"password": problems})


def signup(*, email: str, password: str, organization_name: str, kind: str) -> User:
    """Create a seller or buyer organisation with its first user."""
    if kind not in {"seller", "buyer"}:
        raise Invalid("Sign up as a seller or a buyer.", details={"kind": ["Not allowed."]})
    return _create_user(
        email=email, password=password, organization_name=organization_name, kind=kind
    )


def create_user(*, email: str, password: str, role: str, organization_name: str | None) -> User:
    """Staff-made accounts, including admins (the CLI's `flask users create`)."""
    if role not in KIND_BY_ROLE:
        raise Invalid(
            f"Unknown role {role!r}.", details={"role": ["Not one of admin, seller, buyer."]}
        )
    kind = KIND_BY_ROLE[role]
    name = organization_name or (PLATFORM_ORG_NAME if kind == "platform" else email)
    return _create_user(email=email, password=password, organization_name=name, kind=kind)


def _create_user(*, email: str, password: str, organization_name: str, kind: str) -> User:
    email = normalize_email(email)
    organization_name = organization_name.strip()
    if not organization_name:
        raise Invalid("Name the organisation.", details={"organization_name": ["Required."]})
    check_password_rules(password, email=email, organization_name=organization_name)
    with transaction() as session:
        if session.scalar(select(User.id).where(User.email_key == email.lower())):
            raise EmailTaken()
        organization = None
        if kind == "platform":
            organization = session.scalar(
                select(Organization).where(
                    Organization.kind == "platform", Organization.name == organization_name
                )
            )
        if organization is None:
            organization = Organization(name=organization_name, kind=kind)
            session.add(organization)
        user = User(
            email=email,
            email_key=email.lower(),
            password_hash=_hash_password(password),
            organization=organization,
        )
        session.add(user)
        try:
            session.flush()
        except IntegrityError as exc:  # a concurrent sign-up took the email first
            raise EmailTaken() from exc
        record_audit(
            actor=None,
            action="user.created",
            obj=user,
            details={"role": user.role, "organization_id": organization.id},
        )
    return user


def authenticate(*, email: str, password: str) -> User:
    global _DUMMY_HASH
    key = email.strip().lower()
    user = db.session.scalar(select(User).where(User.email_key == key)) if key else None
    if user is None or not user.is_enabled:
        if _DUMMY_HASH is None:
            _DUMMY_HASH = _hash_password(secrets.token_hex(16))
        check_password_hash(_DUMMY_HASH, password)
        raise InvalidCredentials()
    if not check_password_hash(user.password_hash, password):
        raise InvalidCredentials()
    with transaction():
        user.last_login_at = utcnow()
    return user


def end_sessions(*, user: User) -> None:
    """End every web session and remember-me cookie of ``user``, on every device (log-out)."""
    with transaction() as session:
        _bump_session_version(session, user)


def _bump_session_version(session, user: User) -> None:
    # In SQL, so two log-outs at once both count; the cookies carry the version they were
    # made with and the user loader refuses any other (app.auth.sessions).
    session.execute(
        update(User)
        .where(User.id == user.id)
        .values(session_version=User.session_version + 1)
        .execution_options(synchronize_session=False)
    )
    session.expire(user, ["session_version"])


def change_password(*, user: User, current_password: str, new_password: str) -> None:
    """The user sets a new password, proving the old one; all their web sessions end."""
    if not check_password_hash(user.password_hash, current_password):
        raise WrongCurrentPassword(details={"current_password": [WrongCurrentPassword.message]})
    set_password(user=user, new_password=new_password, actor=user)


def set_password(*, user: User, new_password: str, actor: User | None) -> None:
    """A new password under the usual rules; every web session of the user ends.

    ``actor`` is the user themselves, or None for staff at the console (`flask users
    set-password`). API tokens stay: they are revoked one by one.
    """
    check_password_rules(new_password, email=user.email, organization_name=user.organization.name)
    with transaction() as session:
        user.password_hash = _hash_password(new_password)
        _bump_session_version(session, user)
        record_audit(actor=actor, action="user.password_changed", obj=user)


def set_user_enabled(*, actor: User | None, user: User, is_enabled: bool) -> None:
    """An admin (or staff at the console, ``actor=None``) disables or re-enables a user.

    Disabling ends every web session and remember cookie of the user for good: enabling
    again does not bring the old ones back. Their API tokens stop working while disabled.
    """
    if actor is not None and not actor.is_admin:
        raise Forbidden("Only admins enable or disable users.")
    with transaction() as session:
        user.is_enabled = is_enabled
        _bump_session_version(session, user)
        record_audit(
            actor=actor, action="user.enabled" if is_enabled else "user.disabled", obj=user
        )


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(*, user: User, name: str | None = None) -> tuple[ApiToken, str]:
    """A new API token; the plain token is returned once and never stored."""
    secret = secrets.token_urlsafe(32)
    token = f"{TOKEN_PREFIX}{secret}"
    with transaction() as session:
        record = ApiToken(
            user_id=user.id,
            name=name,
            prefix=token[: len(TOKEN_PREFIX) + 6],
            token_hash=_token_digest(token),
            expires_at=utcnow() + current_app.config["API_TOKEN_TTL"],
        )
        session.add(record)
        session.flush()
        record_audit(actor=user, action="token.created", obj=record)
    return record, token


def revoke_token(*, user: User, token_id: int) -> None:
    with transaction() as session:
        record = session.get(ApiToken, token_id)
        if record is None or record.user_id != user.id or record.revoked_at is not None:
            raise NotFound("No such token.")
        record.revoked_at = utcnow()
        record_audit(actor=user, action="token.revoked", obj=record)


def user_for_token(token: str) -> User | None:
    """The user a live token belongs to, or None; notes when the token was last used."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    session = db.session
    record = session.scalar(select(ApiToken).where(ApiToken.token_hash == _token_digest(token)))
    now = utcnow()
    if record is None or record.revoked_at is not None or record.expires_at <= now:
        return None
    if not record.user.is_enabled:
        return None
    if record.last_used_at is None or now - record.last_used_at > LAST_USED_RESOLUTION:
        with transaction():
            record.last_used_at = now
    return record.user


def purge_dead_tokens(*, now: datetime | None = None, keep: timedelta = timedelta(days=30)) -> int:
    """Delete tokens that expired or were revoked more than ``keep`` ago; returns how many."""
    cutoff = (now or utcnow()) - keep
    with transaction() as session:
        result = session.execute(
            delete(ApiToken).where(or_(ApiToken.expires_at < cutoff, ApiToken.revoked_at < cutoff))
        )
    return result.rowcount or 0


def record_audit(
    *,
    actor: User | None,
    action: str,
    obj=None,
    object_type: str | None = None,
    object_id=None,
    details: dict | None = None,
) -> AuditEntry:
    """Append an audit entry inside the caller's transaction (flush only)."""
    if obj is not None:
        object_type = object_type or obj.__tablename__
        object_id = object_id if object_id is not None else getattr(obj, "id", None)
    entry = AuditEntry(
        actor_user_id=actor.id if actor else None,
        actor_organization_id=actor.organization_id if actor else None,
        action=action,
        object_type=object_type or "",
        object_id=None if object_id is None else str(object_id),
        details=details or {},
    )
    db.session.add(entry)
    db.session.flush()
    return entry
