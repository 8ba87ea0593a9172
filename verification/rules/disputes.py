"""The rules of a dispute (a buyer returning a bought lead), pure so each is tested alone.

- The return window: a bought lead may be disputed until its ``return_deadline`` (the purchase
  time plus its vertical's ``return_window_days``, the moment its sale may be released to the
  seller). At that second the window is closed.
- The seller's answer window: ``seller_response_days`` from the opening.
- The abuse share: a buyer may not dispute more than ``buyer_dispute_limit_pct`` of the leads it
  bought over the last ``ABUSE_WINDOW_DAYS`` days; one dispute is always allowed.
- Which evidence settles which reason: a phone or an email that fails today's re-check, or the
  same person sold to the buyer before, proves the buyer right at once. Only that field's codes
  count: a lead that has merely grown old (``too_old``) proves nothing about its phone.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

REASONS = (
    "bad_phone",
    "bad_email",
    "wrong_person",
    "duplicate",
    "no_consent",
    "outside_area",
    "fake_info",
    "misqualified",
    "other",
)
STATUSES = ("open", "accepted", "rejected")
DECISIONS = {"accept": "accepted", "reject": "rejected"}

# The days over which a buyer's dispute share is counted (api-v1.md: "over 30 days").
ABUSE_WINDOW_DAYS = 30

# The re-check codes that prove a reason, by the field the reason is about.
FIELD_CODES: dict[str, frozenset[str]] = {
    "bad_phone": frozenset({"invalid_phone"}),
    "bad_email": frozenset({"invalid_email", "disposable_email"}),
}
# The lead field a proved bad_phone / bad_email is flagged on.
FLAGGED_FIELD = {"bad_phone": "phone", "bad_email": "email"}
# Upheld reasons that take the lead off sale for good; the others change it or credit alone.
WITHDRAWING_REASONS = frozenset({"fake_info", "wrong_person", "no_consent", "duplicate"})


def window_is_open(*, now: datetime, return_deadline: datetime) -> bool:
    """True while the lead may still be returned: strictly before its deadline."""
    return now < return_deadline


def response_deadline(*, opened_at: datetime, seller_response_days: int) -> datetime:
    """Until when the seller may answer a dispute opened at ``opened_at``."""
    return opened_at + timedelta(days=seller_response_days)


def within_dispute_share(*, disputed: int, bought: int, limit_pct: float) -> bool:
    """May a buyer who has ``disputed`` of the ``bought`` leads of the window open one more?

    Counted after this dispute: (disputed + 1) / bought must stay at or under the limit. The
    first dispute is always allowed, whatever the share, so a new buyer can return a bad lead.
    """
    if disputed <= 0:
        return True
    return (disputed + 1) * 100 <= limit_pct * bought


def failing_codes(reason: str, checks: Iterable[Mapping]) -> list[str]:
    """The re-check codes that prove ``reason`` (empty when none does or it takes no re-check)."""
    wanted = FIELD_CODES.get(reason, frozenset())
    return sorted({check["code"] for check in checks if check.get("code") in wanted})


def settles(reason: str, evidence: Mapping) -> bool:
    """Does the automatic evidence prove the buyer right, so the dispute is accepted at once?"""
    if reason in FIELD_CODES:
        recheck = evidence.get("recheck") or {}
        return bool(failing_codes(reason, recheck.get("checks") or ()))
    if reason == "duplicate":
        return evidence.get("duplicate") is not None
    return False
