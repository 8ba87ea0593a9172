"""Notifications inside the product: notify joins the caller's transaction; an organisation sees
only its own, newest first and paged, on the page and the API; the navigation counts unread."""

import re

import pytest
from sqlalchemy import func, select

from app.db import transaction
from app.extensions import db
from app.notifications import Notification, mark_read, notify, unread_count
from tests.helpers import bearer, csrf_token, log_in


def _notify(org_id: int, message: str, *, link: str | None = "/dashboard", kind="test") -> int:
    with transaction():
        return notify(org_id, kind=kind, message=message, link=link).id


def _rows() -> int:
    return db.session.scalar(select(func.count()).select_from(Notification))


def _badge(client) -> int:
    """The unread count the navigation bar shows (0 when it shows none)."""
    html = client.get("/dashboard").get_data(as_text=True)
    match = re.search(r'class="nav-notifications"[^>]*>.*?data-unread="(\d+)"', html, re.S)
    assert 'href="/notifications"' in html
    return int(match.group(1)) if match else 0


def test_notify_inside_a_rolled_back_transaction_leaves_nothing(buyer):
    with pytest.raises(RuntimeError, match="the use case failed"), transaction():
        notify(buyer.organization_id, kind="dispute_opened", message="A dispute was opened.")
        raise RuntimeError("the use case failed")
    assert _rows() == 0
    assert unread_count(buyer.organization_id) == 0


def test_notify_commits_with_the_callers_work_and_never_by_itself(buyer):
    with transaction():
        notify(buyer.organization_id, kind="dispute_opened", message="Opened.", link="/x")
        # Not committed yet: another connection sees nothing.
        with db.engine.connect() as other:
            assert other.scalar(select(func.count()).select_from(Notification)) == 0
    assert unread_count(buyer.organization_id) == 1


def test_notify_outside_a_transaction_or_with_a_foreign_link_is_refused(buyer):
    with pytest.raises(RuntimeError):
        notify(buyer.organization_id, kind="x", message="nothing would commit this")
    for link in ("https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:x"):
        with pytest.raises(ValueError), transaction():
            notify(buyer.organization_id, kind="x", message="m", link=link)
    db.session.rollback()
    assert _rows() == 0


def test_a_long_message_is_cut_not_refused(buyer):
    with transaction():
        row = notify(buyer.organization_id, kind="x", message="y" * 5000)
    assert len(row.message) == 1000 and row.message.endswith("…")


def test_another_organisations_notifications_are_never_visible(client, buyer, seller):
    mine = _notify(buyer.organization_id, "Your dispute on lead #7 was accepted.")
    theirs = _notify(seller.organization_id, "A buyer disputed lead #7 (seller only).")

    # API
    listed = client.get("/api/v1/notifications", headers=bearer(buyer)).get_json()
    assert [n["id"] for n in listed["items"]] == [mine]
    assert listed["unread_count"] == 1
    refused = client.post("/api/v1/notifications/read", json={"id": theirs}, headers=bearer(buyer))
    assert refused.status_code == 404
    assert refused.get_json()["error"]["code"] == "notification_not_found"
    assert unread_count(seller.organization_id) == 1

    # Page
    log_in(client, buyer)
    html = client.get("/notifications").get_data(as_text=True)
    assert "Your dispute on lead #7 was accepted." in html
    assert "seller only" not in html
    token = csrf_token(client, "/notifications")
    assert (
        client.post(f"/notifications/{theirs}/read", data={"csrf_token": token}).status_code == 404
    )
    # Marking all read marks the buyer's only.
    client.post("/notifications/read", data={"csrf_token": token})
    assert unread_count(buyer.organization_id) == 0
    assert unread_count(seller.organization_id) == 1


def test_unread_count_in_the_navigation_falls_after_mark_read(client, buyer):
    first = _notify(buyer.organization_id, "First")
    _notify(buyer.organization_id, "Second")
    _notify(buyer.organization_id, "Third")
    log_in(client, buyer)
    assert _badge(client) == 3

    token = csrf_token(client, "/notifications")
    # Without the CSRF token nothing is marked.
    assert client.post(f"/notifications/{first}/read").status_code == 400
    assert _badge(client) == 3

    response = client.post(f"/notifications/{first}/read", data={"csrf_token": token})
    assert response.status_code == 302
    assert _badge(client) == 2
    page = client.get("/notifications").get_data(as_text=True)
    assert page.count(">Mark read</button>") == 2

    done = client.post("/notifications/read", data={"csrf_token": token}, follow_redirects=True)
    assert "Marked 2 notifications read." in done.get_data(as_text=True)
    assert _badge(client) == 0
    assert "Mark all read" not in client.get("/notifications").get_data(as_text=True)


def test_the_page_lists_newest_first_and_pages_by_cursor(client, buyer, monkeypatch):
    monkeypatch.setattr("app.web.views.NOTIFICATIONS_PAGE_SIZE", 2)
    for n in range(1, 6):
        _notify(buyer.organization_id, f"Message number {n}.")
    log_in(client, buyer)
    seen = []
    url = "/notifications"
    while url:
        html = client.get(url).get_data(as_text=True)
        seen += re.findall(r"Message number (\d)\.", html)
        following = re.search(r'href="(/notifications\?cursor=[^"]+)" rel="next"', html)
        url = following.group(1).replace("&amp;", "&") if following else None
    assert seen == ["5", "4", "3", "2", "1"]


def test_api_lists_newest_first_pages_and_marks_read(client, buyer):
    ids = [_notify(buyer.organization_id, f"n{n}", link=None) for n in range(3)]
    headers = bearer(buyer)
    first = client.get("/api/v1/notifications?limit=2", headers=headers).get_json()
    assert [n["id"] for n in first["items"]] == [ids[2], ids[1]]
    assert first["items"][0]["link"] is None and first["items"][0]["read_at"] is None
    rest = client.get(
        f"/api/v1/notifications?limit=2&cursor={first['next_cursor']}", headers=headers
    ).get_json()
    assert [n["id"] for n in rest["items"]] == [ids[0]] and rest["next_cursor"] is None

    one = client.post("/api/v1/notifications/read", json={"id": ids[1]}, headers=headers)
    assert one.get_json() == {"marked": 1, "unread_count": 2}
    again = client.post("/api/v1/notifications/read", json={"id": ids[1]}, headers=headers)
    assert again.get_json() == {"marked": 0, "unread_count": 2}
    unread = client.get("/api/v1/notifications?unread=true", headers=headers).get_json()
    assert [n["id"] for n in unread["items"]] == [ids[2], ids[0]]

    everything = client.post("/api/v1/notifications/read", headers=headers)
    assert everything.get_json() == {"marked": 2, "unread_count": 0}
    assert client.get("/api/v1/notifications").status_code == 401


def test_the_notifications_page_needs_a_sign_in(client):
    assert client.get("/notifications").status_code == 302
    token = csrf_token(client, "/login")
    response = client.post("/notifications/read", data={"csrf_token": token})
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_mark_read_counts_only_what_was_unread(buyer):
    a = _notify(buyer.organization_id, "a")
    _notify(buyer.organization_id, "b")
    assert mark_read(organization_id=buyer.organization_id, notification_id=a) == 1
    assert mark_read(organization_id=buyer.organization_id, notification_id=a) == 0
    assert mark_read(organization_id=buyer.organization_id) == 1
    assert unread_count(buyer.organization_id) == 0
