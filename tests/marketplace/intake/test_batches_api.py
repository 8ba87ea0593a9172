"""Batch upload through the API: CSV and JSON, counts that always add up, clear failures."""

import io
import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.db import utcnow
from app.extensions import db
from marketplace.models import Lead
from tests.leadfiles import csv_bytes, good_row


def upload(client, headers, content: bytes, filename="leads.csv", **form):
    data = {"vertical": "solar", "price_cents": "1500", "max_sales": "1"} | form
    data["file"] = (io.BytesIO(content), filename)
    return client.post(
        "/api/v1/batches", headers=headers, data=data, content_type="multipart/form-data"
    )


def batch(client, headers, batch_id):
    response = client.get(f"/api/v1/batches/{batch_id}", headers=headers)
    assert response.status_code == 200
    return response.get_json()


def rejections(client, headers, batch_id):
    return client.get(
        f"/api/v1/batches/{batch_id}/rejections?limit=500", headers=headers
    ).get_json()["items"]


def assert_rows_add_up(body):
    counts = body["counts"]
    assert counts["rows"] == counts["accepted"] + counts["rejected"] + counts["duplicates"]


def test_csv_upload_is_processed_and_counted(client, seller, auth):
    headers = auth(seller)
    response = upload(client, headers, csv_bytes([good_row(i) for i in range(5)]))
    assert response.status_code == 202
    created = response.get_json()
    assert created["links"]["self"] == f"/api/v1/batches/{created['id']}"
    body = batch(client, headers, created["id"])
    assert body["status"] == "spot_check"
    assert body["counts"] == {
        "rows": 5,
        "accepted": 5,
        "rejected": 0,
        "duplicates": 0,
        "listed": 0,
        "sold": 0,
    }
    assert body["progress"] == {"processed": 5, "total": 5}
    assert body["error"] is None and body["vertical"] == "solar" and body["price_cents"] == 1500
    leads = client.get(f"/api/v1/batches/{created['id']}/leads", headers=headers).get_json()
    assert len(leads["items"]) == 5
    first = leads["items"][0]
    assert first["contact"]["email"] == "maria.lopez0@gmail.com"
    assert first["contact"]["phone"].startswith("+1415")
    assert first["status"] == "pending"


def test_json_upload_and_wrong_types(client, seller, auth):
    headers = auth(seller)
    leads = [
        good_row(1),
        good_row(2, first_name=12345, country=["US"]),
        good_row(3, phone=None, email=None),
    ]
    response = client.post(
        "/api/v1/batches",
        headers=headers,
        json={"vertical": "solar", "price_cents": 900, "max_sales": 3, "leads": leads},
    )
    assert response.status_code == 202
    body = batch(client, headers, response.get_json()["id"])
    assert body["counts"]["accepted"] == 1 and body["counts"]["rejected"] == 2
    assert body["max_sales"] == 3
    codes = {(r["row"], r["field"], r["code"]) for r in rejections(client, headers, body["id"])}
    assert (2, "first_name", "invalid_value") in codes
    assert (2, "country", "invalid_value") in codes
    assert (3, "email", "required") in codes


@pytest.mark.parametrize(
    "body, field",
    [
        ({"vertical": "solar", "price_cents": "900", "leads": []}, "price_cents"),
        ({"vertical": "solar", "price_cents": 1.5, "leads": []}, "price_cents"),
        ({"vertical": "solar", "price_cents": 900, "leads": "x"}, "leads"),
        ({"vertical": "solar", "price_cents": 900, "leads": [1, 2]}, "leads"),
        ({"vertical": "solar", "price_cents": 900}, "leads"),
        ({"vertical": "nope", "price_cents": 900, "leads": [{}]}, "vertical"),
        ({"vertical": "solar", "price_cents": 0, "leads": [{}]}, "price_cents"),
        ({"vertical": "solar", "price_cents": 900, "max_sales": 0, "leads": [{}]}, "max_sales"),
    ],
)
def test_bad_batch_terms_are_422_naming_the_field(client, seller, auth, body, field):
    response = client.post("/api/v1/batches", headers=auth(seller), json=body)
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["error"]["details"]


def test_json_batch_over_10000_leads_is_413(client, seller, auth):
    response = client.post(
        "/api/v1/batches",
        headers=auth(seller),
        json={"vertical": "solar", "price_cents": 900, "leads": [{}] * 10_001},
    )
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "too_large"


def test_only_sellers_upload_and_only_owners_see(client, seller, buyer, auth):
    content = csv_bytes([good_row(1)])
    assert upload(client, auth(buyer), content).status_code == 403
    created = upload(client, auth(seller), content).get_json()
    from tests.helpers import make_user

    other = make_user("seller")
    for path in ("", "/rejections", "/leads"):
        response = client.get(f"/api/v1/batches/{created['id']}{path}", headers=auth(other))
        assert response.status_code == 404
    assert client.get(f"/api/v1/batches/{created['id']}", headers=auth(buyer)).status_code == 403
    mine = client.get("/api/v1/batches", headers=auth(other)).get_json()
    assert mine["items"] == []


def test_admin_sees_any_batch(client, seller, admin, auth):
    created = upload(client, auth(seller), csv_bytes([good_row(1)])).get_json()
    assert client.get(f"/api/v1/batches/{created['id']}", headers=auth(admin)).status_code == 200


def test_second_upload_of_the_same_file_is_all_duplicates(client, seller, auth):
    headers = auth(seller)
    content = csv_bytes([good_row(i) for i in range(20)])
    first = batch(client, headers, upload(client, headers, content).get_json()["id"])
    second = batch(client, headers, upload(client, headers, content).get_json()["id"])
    assert first["counts"]["accepted"] == 20
    assert second["counts"] == {
        "rows": 20,
        "accepted": 0,
        "rejected": 0,
        "duplicates": 20,
        "listed": 0,
        "sold": 0,
    }
    items = rejections(client, headers, second["id"])
    assert {r["code"] for r in items} == {"duplicate"}
    assert items[0]["details"]["batch_id"] == first["id"]


def test_duplicates_inside_a_batch_name_the_original_row(client, seller, auth):
    headers = auth(seller)
    rows = [
        good_row(1),
        good_row(2),
        good_row(3, email="maria.lopez1@gmail.com"),
        good_row(4, phone=good_row(2)["phone"]),
    ]
    body = batch(client, headers, upload(client, headers, csv_bytes(rows)).get_json()["id"])
    assert body["counts"]["duplicates"] == 2 and body["counts"]["accepted"] == 2
    found = {
        (r["row"], r["field"], r["code"], json.dumps(r["details"]))
        for r in rejections(client, headers, body["id"])
    }
    assert found == {
        (3, "email", "duplicate_in_batch", '{"row": 1}'),
        (4, "phone", "duplicate_in_batch", '{"row": 2}'),
    }


def test_another_sellers_duplicate_does_not_reveal_the_lead(client, seller, auth):
    from tests.helpers import make_user

    upload(client, auth(seller), csv_bytes([good_row(1)]))
    other = make_user("seller")
    body = batch(
        client, auth(other), upload(client, auth(other), csv_bytes([good_row(1)])).get_json()["id"]
    )
    (item,) = rejections(client, auth(other), body["id"])
    assert item["code"] == "duplicate" and item["details"] == {"matched": "email"}


def test_rejected_and_failed_batches_do_not_block_later_uploads(client, seller, auth):
    headers = auth(seller)
    first = upload(client, headers, csv_bytes([good_row(1)])).get_json()
    from marketplace.models import Batch

    db.session.get(Batch, first["id"]).status = "rejected"
    db.session.commit()
    again = batch(
        client, headers, upload(client, headers, csv_bytes([good_row(1)])).get_json()["id"]
    )
    assert again["counts"]["accepted"] == 1


def test_rejections_csv_is_safe_against_formulas(client, seller, auth):
    headers = auth(seller)
    rows = [good_row(1, first_name="=cmd|' /C calc'!A0", email='=HYPERLINK("x")')]
    body = batch(client, headers, upload(client, headers, csv_bytes(rows)).get_json()["id"])
    response = client.get(f"/api/v1/batches/{body['id']}/rejections?format=csv", headers=headers)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeffrow,field,code,message")
    for line in text.splitlines()[1:]:
        for cell in line.split(","):
            assert not cell.startswith(("=", "+", "-", "@"))


# --- files that cannot be used -----------------------------------------------------------------


def failed(client, headers, content, **kw):
    body = batch(client, headers, upload(client, headers, content, **kw).get_json()["id"])
    assert body["status"] == "failed", body
    assert_rows_add_up(body)
    return body["error"]


def test_empty_file_fails_clearly(client, seller, auth):
    assert failed(client, auth(seller), b"")["code"] == "empty_file"


def test_header_only_fails_clearly(client, seller, auth):
    assert failed(client, auth(seller), csv_bytes([]))["code"] == "no_rows"


def test_missing_required_column_is_named(client, seller, auth):
    rows = [{k: v for k, v in good_row(1).items() if k != "consented_at"}]
    error = failed(client, auth(seller), csv_bytes(rows))
    assert error["code"] == "missing_column" and "consented_at" in error["message"]


def test_not_utf8_fails_and_says_why(client, seller, auth):
    content = csv_bytes([good_row(1, city="Zürich")]).decode().encode("latin-1")
    error = failed(client, auth(seller), content)
    assert error["code"] == "not_utf8" and "UTF-8" in error["message"]


def test_row_with_10000_columns_refuses_the_file(client, seller, auth):
    content = csv_bytes([good_row(1)]) + (",x" * 10_000).encode() + b"\r\n"
    error = failed(client, auth(seller), content)
    assert error["code"] == "too_large" and "Row 2" in error["message"]
    assert db.session.scalar(select(func.count(Lead.id))) == 0


def test_bom_crlf_semicolons_and_quoted_newlines(client, seller, auth):
    headers = auth(seller)
    rows = [
        good_row(1, city="Paris, 11e", consent_text='Line one\nline two; with "quotes"'),
        good_row(2),
    ]
    content = b"\xef\xbb\xbf" + csv_bytes(rows, delimiter=";", newline="\r\n")
    body = batch(client, headers, upload(client, headers, content).get_json()["id"])
    assert body["counts"]["accepted"] == 2, rejections(client, headers, body["id"])
    lead = client.get(f"/api/v1/batches/{body['id']}/leads", headers=headers).get_json()["items"][
        0
    ]
    assert lead["location"]["city"] == "Paris, 11e"
    assert lead["consent"]["text"] == 'Line one\nline two; with "quotes"'


def test_unknown_columns_are_kept_as_extra(client, seller, auth):
    headers = auth(seller)
    rows = [good_row(1) | {"Roof Type": "tile", "First Name": "x"}]
    rows[0].pop("first_name")
    body = batch(client, headers, upload(client, headers, csv_bytes(rows)).get_json()["id"])
    lead = client.get(f"/api/v1/batches/{body['id']}/leads", headers=headers).get_json()["items"][
        0
    ]
    assert lead["extra"] == {"Roof Type": "tile"}
    assert lead["contact"]["first_name"] == "x" or body["counts"]["rejected"] == 1


def test_upload_over_the_size_limit_is_413_before_reading(app, client, seller, auth):
    headers = auth(seller)
    limit = app.config["MAX_CONTENT_LENGTH"]
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024
    try:
        response = upload(client, headers, b"x" * (128 * 1024))
    finally:
        app.config["MAX_CONTENT_LENGTH"] = limit
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "too_large"


def test_html_in_names_is_data_not_markup(client, seller, auth):
    headers = auth(seller)
    rows = [good_row(1, last_name="<b>Bold</b>"), good_row(2)]
    batch_id = upload(client, headers, csv_bytes(rows)).get_json()["id"]
    body = batch(client, headers, batch_id)
    assert_rows_add_up(body)
    assert body["counts"]["accepted"] == 1
    rejections = client.get(f"/api/v1/batches/{batch_id}/rejections", headers=headers)
    assert [(r["row"], r["field"], r["code"]) for r in rejections.get_json()["items"]] == [
        (1, "last_name", "invalid_value")
    ]


def test_old_and_future_leads_are_rejected_by_age(client, seller, auth):
    headers = auth(seller)
    old = (utcnow() - timedelta(days=120)).isoformat()
    future = (utcnow() + timedelta(days=2)).isoformat()
    rows = [
        good_row(1, captured_at=old, consented_at=old),
        good_row(2, captured_at=future, consented_at=future),
    ]
    body = batch(client, headers, upload(client, headers, csv_bytes(rows)).get_json()["id"])
    codes = {(r["row"], r["code"]) for r in rejections(client, headers, body["id"])}
    assert (1, "too_old") in codes and (2, "future_date") in codes


def test_malformed_json_batch_is_400_and_stores_nothing(client, seller, auth):
    headers = {**auth(seller), "Content-Type": "application/json"}
    response = client.post("/api/v1/batches", headers=headers, data=b'{"vertical": "solar",')
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "malformed_json"
    assert client.get("/api/v1/batches", headers=auth(seller)).get_json()["items"] == []
