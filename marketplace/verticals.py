"""Verticals (solar, insurance, ...): the reads and the admin's use cases."""

from __future__ import annotations

from sqlalchemy import select, update

from app.auth.models import User
from app.auth.services import record_audit
from app.db import transaction
from app.errors import Conflict
from app.extensions import db
from marketplace.errors import VerticalNotFound
from marketplace.listings.queries import expires_at_of
from marketplace.models import Lead, Vertical


def list_verticals(*, include_inactive: bool = False):
    stmt = select(Vertical)
    if not include_inactive:
        stmt = stmt.where(Vertical.is_active.is_(True))
    return stmt.order_by(Vertical.name)


def get_vertical(slug: str, *, active_only: bool = True) -> Vertical:
    vertical = None
    if isinstance(slug, str):
        vertical = db.session.scalar(select(Vertical).where(Vertical.slug == slug))
    if vertical is None or not (vertical.is_active or not active_only):
        raise VerticalNotFound(details={"vertical": [f"Unknown vertical {slug!r}."]})
    return vertical


def create_vertical(
    *,
    actor: User,
    slug: str,
    name: str,
    return_window_days: int = 7,
    max_lead_age_days: int = 90,
    required_columns: list | None = None,
) -> Vertical:
    with transaction() as session:
        if db.session.scalar(select(Vertical.id).where(Vertical.slug == slug)):
            raise Conflict(f"The vertical {slug!r} exists already.", code="vertical_exists")
        vertical = Vertical(
            slug=slug,
            name=name,
            return_window_days=return_window_days,
            max_lead_age_days=max_lead_age_days,
            required_columns=list(required_columns or []),
            is_active=True,
        )
        session.add(vertical)
        session.flush()
        record_audit(actor=actor, action="vertical.created", obj=vertical, details={"slug": slug})
    return vertical


def update_vertical(*, actor: User, slug: str, **changes) -> Vertical:
    """Change a vertical; a new maximum lead age moves the expiry of its listed leads."""
    with transaction():
        vertical = get_vertical(slug, active_only=False)
        for key, value in changes.items():
            setattr(vertical, key, list(value) if key == "required_columns" else value)
        if "max_lead_age_days" in changes:
            db.session.execute(
                update(Lead)
                .where(Lead.vertical_id == vertical.id, Lead.expires_at.is_not(None))
                .values(expires_at=expires_at_of(vertical.max_lead_age_days))
                .execution_options(synchronize_session=False)
            )
        record_audit(
            actor=actor,
            action="vertical.updated",
            obj=vertical,
            details={k: v for k, v in changes.items()},
        )
    return vertical
