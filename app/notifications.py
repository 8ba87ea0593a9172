"""Notifications inside the product: what happened that an organisation should look at.

Any package may call ``notify`` (a dispute opened, answered, resolved) inside its own use case's
``transaction()``: the notification commits with the work it reports, or not at all. Pages and
the API read them per organisation with ``list_notifications``, newest first, and mark them read
with ``mark_read``. The navigation bar shows ``unread_count``: one COUNT on the index
(organization_id, read_at).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Select, String, Text, func, select, update
from sqlalchemy.orm import Mapped, mapped_column

from app.db import UTCDateTime, in_transaction, transaction, utcnow
from app.errors import NotFound
from app.extensions import db

MAX_KIND = 64
MAX_MESSAGE = 1000
MAX_LINK = 500


class Notification(db.Model):
    __tablename__ = "notifications"
    __table_args__ = (
        # The navigation's unread count: organization_id = ? AND read_at IS NULL.
        Index("ix_notifications_unread", "organization_id", "read_at"),
        # The list, newest first, paged by id.
        Index("ix_notifications_list", "organization_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE")
    )
    kind: Mapped[str] = mapped_column(String(MAX_KIND))
    message: Mapped[str] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(String(MAX_LINK))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


# Newest first; ids grow with time and are unique, so they page without ties.
ORDER = [(Notification.id, True)]


def notify(
    organization_id: int, *, kind: str, message: str, link: str | None = None
) -> Notification:
    """Tell ``organization_id`` that something happened; ``link`` is where to look (a path).

    Only adds the row, inside the caller's ``transaction()``: it commits with the caller's work
    and disappears with its rollback. Outside a transaction it raises, since nothing would
    commit it. A message past 1000 characters is cut (it may quote a person's note).
    """
    if not in_transaction():
        raise RuntimeError("notify() outside transaction(): nothing would commit it")
    if not kind or len(kind) > MAX_KIND:
        raise ValueError(f"kind must be 1 to {MAX_KIND} characters: {kind!r}")
    if link is not None and not _is_relative_path(link):
        raise ValueError(f"link must be a path of this site, like /buyer/disputes: {link!r}")
    if len(message) > MAX_MESSAGE:
        message = message[: MAX_MESSAGE - 1] + "…"
    row = Notification(organization_id=organization_id, kind=kind, message=message, link=link)
    db.session.add(row)
    db.session.flush()
    return row


def _is_relative_path(link: str) -> bool:
    # "/x" only: never "//host" or "/\host" (browsers read both as another site), nor a scheme.
    return (
        0 < len(link) <= MAX_LINK
        and link.startswith("/")
        and not link.startswith(("//", "/\\"))
        and not any(c.isspace() or ord(c) < 32 for c in link)
    )


def list_notifications(organization_id: int, *, unread_only: bool = False) -> Select:
    """The organisation's notifications; page them with ``app.api.paginate`` and ``ORDER``."""
    stmt = select(Notification).where(Notification.organization_id == organization_id)
    if unread_only:
        stmt = stmt.where(Notification.read_at.is_(None))
    return stmt


def unread_count(organization_id: int) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(Notification)
        .where(Notification.organization_id == organization_id, Notification.read_at.is_(None))
    )


def mark_read(*, organization_id: int, notification_id: int | None = None) -> int:
    """Mark one notification (``notification_id``) or all of the organisation's read.

    Returns how many were unread and are now read; marking a read one again changes nothing.
    A notification of another organisation is 404, as one that does not exist.
    """
    with transaction() as session:
        stmt = update(Notification).where(
            Notification.organization_id == organization_id, Notification.read_at.is_(None)
        )
        if notification_id is not None:
            owned = session.scalar(
                select(Notification.id).where(
                    Notification.id == notification_id,
                    Notification.organization_id == organization_id,
                )
            )
            if owned is None:
                raise NotFound("There is no such notification.", code="notification_not_found")
            stmt = stmt.where(Notification.id == notification_id)
        marked = session.execute(stmt.values(read_at=utcnow())).rowcount
    return marked
