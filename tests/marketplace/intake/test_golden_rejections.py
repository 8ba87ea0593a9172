"""One row per rejection rule of leads.md: exactly those codes, row numbers and fields."""

import io
from datetime import timedelta

from app.db import utcnow
from marketplace import services
from tests.leadfiles import csv_bytes, good_row

HEADER = [
    "first_name",
    "last_name",
    "email",
    "phone",
    "country",
    "postal_code",
    "captured_at",
    "consent_text",
    "consented_at",
    "timeline",
]


def golden_rows():
    now = utcnow()
    old = (now - timedelta(days=200)).isoformat()
    future = (now + timedelta(days=3)).isoformat()
    late_consent = (now - timedelta(days=1)).isoformat()
    early_capture = (now - timedelta(days=5)).isoformat()
    cases = [
        ({"first_name": ""}, ("first_name", "required")),
        ({"timeline": "next week"}, ("timeline", "invalid_value")),
        ({"email": "maria@@example"}, ("email", "invalid_email")),
        ({"email": "maria@mailinator.com"}, ("email", "disposable_email")),
        ({"phone": "+1 000 000"}, ("phone", "invalid_phone")),
        ({"first_name": "asdf"}, ("first_name", "placeholder_name")),
        ({"country": "XX"}, ("country", "invalid_country")),
        ({"postal_code": "ABCDE"}, ("postal_code", "invalid_postal_code")),
        ({"captured_at": future}, ("captured_at", "future_date")),
        ({"captured_at": old, "consented_at": old}, ("captured_at", "too_old")),
        ({"consent_text": ""}, ("consent_text", "consent_missing")),
        (
            {"captured_at": early_capture, "consented_at": late_consent},
            ("consented_at", "consent_inconsistent"),
        ),
        ({"email": "never.again@gmail.com"}, ("email", "suppressed")),
        ({"email": "first.upload@gmail.com"}, ("email", "duplicate")),
        ({"email": "maria.lopez1@gmail.com"}, ("email", "duplicate_in_batch")),
        ({"last_name": "L" * 101}, ("last_name", "too_long")),
    ]
    rows = [good_row(1)]  # row 1 is good; row 15 duplicates it
    expected = set()
    for number, (overrides, (field, code)) in enumerate(cases, start=2):
        row = good_row(number, **overrides)
        if code != "duplicate_in_batch" and "phone" not in overrides:
            row["phone"] = ""  # email-only, so the email rule alone decides
        if code == "duplicate_in_batch":
            row["phone"] = ""
        rows.append(row)
        expected.add((number, field, code))
    return rows, expected


def test_golden_file_gives_exactly_the_expected_rejections(client, seller, admin, auth):
    services.add_suppression(actor=admin, email="Never.Again@GMAIL.com")
    headers = auth(seller)
    first = csv_bytes([good_row(99, email="first.upload@gmail.com")], header=HEADER)
    client.post(
        "/api/v1/batches",
        headers=headers,
        content_type="multipart/form-data",
        data={"vertical": "solar", "price_cents": "100", "file": (io.BytesIO(first), "first.csv")},
    )
    rows, expected = golden_rows()
    response = client.post(
        "/api/v1/batches",
        headers=headers,
        content_type="multipart/form-data",
        data={
            "vertical": "solar",
            "price_cents": "100",
            "file": (io.BytesIO(csv_bytes(rows, header=HEADER)), "g.csv"),
        },
    )
    batch_id = response.get_json()["id"]
    items = client.get(
        f"/api/v1/batches/{batch_id}/rejections?limit=500", headers=headers
    ).get_json()["items"]
    assert {(r["row"], r["field"], r["code"]) for r in items} == expected
    assert all(r["message"] for r in items)
    body = client.get(f"/api/v1/batches/{batch_id}", headers=headers).get_json()
    assert body["counts"] == {
        "rows": 17,
        "accepted": 1,
        "rejected": 14,
        "duplicates": 2,
        "listed": 0,
        "sold": 0,
    }
