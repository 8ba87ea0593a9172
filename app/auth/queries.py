"""Reads about accounts."""

from sqlalchemy import select

from app.auth.models import ApiToken, User
from app.extensions import db


def get_user(user_id: int) -> User | None:
    return db.session.get(User, user_id)


def get_user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email_key == email.strip().lower()))


def list_tokens(*, user: User):
    """The user's own tokens that are not revoked, newest first."""
    return select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
