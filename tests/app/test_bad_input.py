"""Bad input is never a 500 (api-v1.md): oversized ids, tampered cursors, deep JSON, NUL and lone
surrogates, bodies of the wrong JSON type. Each runs on SQLite and, with TEST_DATABASE_URL, on
PostgreSQL, where an id past INTEGER, a string cursor value and NUL in text fail differently."""

from __future__ import annotations

import base64
import io
import json

import pytest
from flask import current_app
from sqlalchemy import select

from app.api import paginate
from app.auth.models import ApiToken
from app.errors import Invalid
from app.extensions import db
from tests.helpers import csrf_token, log_in
from tests.leadfiles import csv_bytes, good_row
from tests.verification.flow import upload

PAST_INTEGER = 2**31  # the first id PostgreSQL INTEGER cannot hold
PAST_BIGINT = 2**63  # the first SQLite cannot bind (OverflowError)
TOO_LONG = "9" * 5000  # more digits than int() accepts by default


def envelope(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    assert response.mimetype == "application/json"
    error = response.get_json()["error"]
    assert set(error) == {"code", "message", "details"}
    if code:
        assert error["code"] == code
    return error


# --- ids beyond the integer range --------------------------------------------------------------


def int_routes(app):
    """Every (method, rule) of the app with an ``<int:...>`` part."""
    for rule in app.url_map.iter_rules():
        if "<int:" in rule.rule:
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                yield method, rule


@pytest.mark.parametrize("big", [PAST_INTEGER, PAST_BIGINT, 10**30, TOO_LONG])
def test_ids_past_the_database_range_are_404_on_every_int_route(app, client, admin, auth, big):
    log_in(client, admin)
    headers = {**auth(admin), "X-CSRFToken": csrf_token(client, "/dashboard")}
    for method, rule in int_routes(app):
        url = rule.build({name: 1 for name in rule.arguments})[1]
        url = url.replace("/1", f"/{big}") if url.count("/1") == 1 else None
        assert url, rule.rule
        response = client.open(url, method=method, headers=headers, json={})
        assert response.status_code == 404, (method, rule.rule, response.status_code)


def test_the_largest_database_id_still_reaches_the_view(client, admin, auth):
    response = client.get(f"/api/v1/batches/{PAST_INTEGER - 1}", headers=auth(admin))
    envelope(response, 404, "not_found")


def test_the_openapi_document_shows_the_id_bound(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    (param,) = spec["paths"]["/api/v1/batches/{batch_id}"]["parameters"]
    assert param["schema"]["maximum"] == PAST_INTEGER - 1


@pytest.mark.parametrize("big", [PAST_INTEGER, 10**30, TOO_LONG])
@pytest.mark.parametrize(
    "path", ["/api/v1/spot-checks?batch_id=", "/api/v1/billing/ledger?organization_id="]
)
def test_ids_past_the_range_in_query_parameters_are_422(client, admin, auth, path, big):
    error = envelope(client.get(f"{path}{big}", headers=auth(admin)), 422, "validation_error")
    assert path.rsplit("?", 1)[1].rstrip("=") in error["details"]


def test_the_largest_id_in_a_query_parameter_is_accepted(client, admin, auth):
    response = client.get(f"/api/v1/spot-checks?batch_id={PAST_INTEGER - 1}", headers=auth(admin))
    assert response.status_code == 200
    assert response.get_json()["items"] == []


@pytest.mark.parametrize("big", [str(PAST_INTEGER), str(10**30), TOO_LONG])
def test_the_spot_check_page_ignores_an_id_past_the_range(client, admin, big):
    log_in(client, admin)
    assert client.get(f"/admin/spot-checks?batch_id={big}").status_code == 200


# --- tampered cursors --------------------------------------------------------------------------


def cursor_of(value) -> str:
    raw = json.dumps(value, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


# Each is a list of the right length for a one-column order, holding a value of the wrong type.
BAD_SINGLE = [
    [[1]],
    [{"a": 1}],
    [None],
    [10**30],
    [PAST_BIGINT],
    [PAST_INTEGER],
    ["1"],
    ["x"],
    [True],
    [1.5],
    [{"dt": "2026-11-22T18:00:00"}],
    [{"dt": "2026-11-22T18:00:00+00:00"}],
    [{"dt": 5}],
    [{"dt": "2026-11-22T18:00:00+00:00", "x": 1}],
]
BAD_SHAPE = [{"a": 1}, None, 7, "x", [], [1, 2, 3]]


@pytest.fixture
def listings(seller, buyer, admin, auth):
    """(role headers, list URL, order size) of every API list paged by a cursor."""
    batch = upload(seller, 2)
    s, b, a = auth(seller), auth(buyer), auth(admin)
    return [
        (s, "/api/v1/batches", 1),
        (s, f"/api/v1/batches/{batch.id}/rejections", 2),
        (s, f"/api/v1/batches/{batch.id}/leads", 1),
        (s, "/api/v1/auth/tokens", 1),
        (a, "/api/v1/spot-checks", 2),
        (b, "/api/v1/billing/top-ups", 1),
        (b, "/api/v1/billing/refunds", 1),
        (s, "/api/v1/billing/payouts", 1),
        (a, "/api/v1/admin/payouts", 1),
        (a, "/api/v1/billing/ledger", 1),
    ]


def test_tampered_cursors_are_422_invalid_cursor_on_every_api_list(client, listings):
    for headers, url, size in listings:
        tampered = [bad + [1] * (size - 1) for bad in BAD_SINGLE]
        tampered += [[1] * (size - 1) + bad for bad in BAD_SINGLE]
        for value in [*tampered, *BAD_SHAPE]:
            response = client.get(url, query_string={"cursor": cursor_of(value)}, headers=headers)
            envelope(response, 422, "invalid_cursor")
        for junk in ["%%%", "W1sxXV0", "\x00", "é", "a" * 5000, "WwoK" * 300]:
            response = client.get(url, query_string={"cursor": junk}, headers=headers)
            assert response.status_code == 422, (url, junk[:20])


def test_a_deeply_nested_cursor_is_422(client, seller, auth):
    deep = base64.urlsafe_b64encode(b"[" * 700).decode()
    response = client.get("/api/v1/batches", query_string={"cursor": deep}, headers=auth(seller))
    assert response.status_code == 422


def test_tampered_cursors_are_422_on_the_pages(client, seller, admin):
    batch = upload(seller, 2)
    log_in(client, seller)
    pages = [("/seller/batches", 1), (f"/seller/batches/{batch.id}/leads", 1)]
    for url, size in pages:
        for bad in BAD_SINGLE:
            value = bad + [1] * (size - 1)
            response = client.get(url, query_string={"cursor": cursor_of(value)})
            assert response.status_code == 422, (url, value)
    client.post("/logout", data={"csrf_token": csrf_token(client, "/dashboard")})
    log_in(client, admin)
    for bad in BAD_SINGLE:
        response = client.get("/admin/spot-checks", query_string={"cursor": cursor_of(bad + [1])})
        assert response.status_code == 422, bad


def test_a_cursor_value_is_checked_against_a_time_column(seller, auth):
    auth(seller)
    auth(seller)
    stmt = select(ApiToken)
    order = [(ApiToken.created_at, True), (ApiToken.id, True)]
    first = paginate(db.session, stmt, order=order, cursor=None, limit=1)
    assert first["next_cursor"]
    second = paginate(db.session, stmt, order=order, cursor=first["next_cursor"], limit=1)
    assert [t.id for t in second["items"]] != [t.id for t in first["items"]]
    for bad in (
        [{"dt": "2026-11-22T18:00:00"}, 1],  # naive
        [1, 1],
        ["2026-11-22T18:00:00+00:00", 1],
        [{"dt": "2026-11-22T18:00:00+00:00"}, {"dt": "2026-11-22T18:00:00+00:00"}],
    ):
        with pytest.raises(Invalid) as caught:
            paginate(db.session, stmt, order=order, cursor=cursor_of(bad), limit=1)
        assert caught.value.code == "invalid_cursor"


# --- JSON nested too deep ----------------------------------------------------------------------

DEPTH = 100_000
DEEP_BODIES = {
    "arrays": "[" * DEPTH + "]" * DEPTH,
    "objects": '{"a":' * DEPTH + "1" + "}" * DEPTH,
    "unclosed": "[" * DEPTH,
    "in a field": '{"email": "a@example.com", "password": ' + "[" * DEPTH + "]" * DEPTH + "}",
}


@pytest.mark.parametrize("shape", DEEP_BODIES)
def test_json_nested_100000_deep_is_400_malformed_json(client, seller, buyer, auth, shape):
    body = DEEP_BODIES[shape]
    cases = [
        ("/api/v1/signup", {}),
        ("/api/v1/auth/tokens", {}),
        ("/api/v1/batches", auth(seller)),
        ("/api/v1/billing/top-ups", {**auth(buyer), "Idempotency-Key": "deep-1"}),
        ("/api/v1/billing/refunds", {**auth(buyer), "Idempotency-Key": "deep-2"}),
    ]
    for url, headers in cases:
        response = client.post(url, data=body, content_type="application/json", headers=headers)
        envelope(response, 400, "malformed_json")


def test_a_deep_body_that_is_not_json_typed_is_not_a_500(client, buyer, auth):
    headers = {**auth(buyer), "Idempotency-Key": "deep-text"}
    body = "[" * DEPTH + "]" * DEPTH
    response = client.post(
        "/api/v1/billing/top-ups", data=body, content_type="text/plain", headers=headers
    )
    assert response.status_code in (400, 415, 422)
    envelope(response, response.status_code)


def test_json_at_the_depth_limit_is_parsed_and_one_deeper_is_not(client):
    from app.http import MAX_JSON_DEPTH

    fits = '{"email": ' + "[" * (MAX_JSON_DEPTH - 1) + "]" * (MAX_JSON_DEPTH - 1) + "}"
    response = client.post("/api/v1/auth/tokens", data=fits, content_type="application/json")
    envelope(response, 422, "validation_error")
    deeper = '{"email": ' + "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH + "}"
    response = client.post("/api/v1/auth/tokens", data=deeper, content_type="application/json")
    envelope(response, 400, "malformed_json")
    brackets_in_text = json.dumps({"email": "[{" * 150, "password": "x"})
    response = client.post(
        "/api/v1/auth/tokens", data=brackets_in_text, content_type="application/json"
    )
    envelope(response, 401)


def test_malformed_json_is_400_malformed_json(client, buyer, auth):
    for url, headers in (
        ("/api/v1/signup", {}),
        ("/api/v1/billing/top-ups", {**auth(buyer), "Idempotency-Key": "malformed"}),
    ):
        response = client.post(
            url, data='{"a": ', content_type="application/json", headers=headers
        )
        envelope(response, 400, "malformed_json")


# --- NUL and lone surrogates -------------------------------------------------------------------

BAD_TEXTS = {"lone surrogate": "\ud800", "NUL": "a\x00b"}


def post_json(client, url, body, headers=None, method="POST"):
    # ensure_ascii: a lone surrogate goes out as the escape \ud800, as a client would send it.
    data = json.dumps(body, ensure_ascii=True)
    return client.open(
        url, method=method, data=data, content_type="application/json", headers=headers or {}
    )


def field_named(error, *path):
    details = error["details"]
    for part in path:
        assert part in details, (path, error["details"])
        details = details[part]
    return details


@pytest.mark.parametrize("bad", BAD_TEXTS.values(), ids=BAD_TEXTS.keys())
def test_bad_text_in_unauthenticated_json_is_422_naming_the_field(client, bad):
    signup = {
        "email": "new@example.com",
        "password": "correct horse battery staple",
        "organization_name": "Acme",
        "kind": "buyer",
    }
    for field in ("organization_name", "password", "email"):
        response = post_json(client, "/api/v1/signup", signup | {field: f"x{bad}y"})
        field_named(envelope(response, 422, "validation_error"), field)
    token = {"email": "new@example.com", "password": "correct horse battery staple"}
    for field in ("password", "email", "name"):
        response = post_json(client, "/api/v1/auth/tokens", token | {field: bad})
        field_named(envelope(response, 422, "validation_error"), field)
    response = post_json(client, "/api/v1/auth/tokens", {f"pass{bad}": "x"})
    envelope(response, 422, "validation_error")


@pytest.mark.parametrize("bad", BAD_TEXTS.values(), ids=BAD_TEXTS.keys())
def test_bad_text_in_authenticated_json_is_422_naming_the_field(client, seller, admin, auth, bad):
    s, a = auth(seller), auth(admin)
    batch = {"vertical": "solar", "price_cents": 1500, "leads": [good_row(1)]}
    cases = [
        ("/api/v1/batches", s, batch | {"name": bad}, ("name",)),
        ("/api/v1/batches", s, batch | {"vertical": bad}, ("vertical",)),
        (
            "/api/v1/batches",
            s,
            batch | {"leads": [good_row(1), good_row(2, city=bad)]},
            ("leads", "1", "city"),
        ),
        ("/api/v1/admin/verticals", a, {"slug": "new-one", "name": bad}, ("name",)),
        (f"/api/v1/admin/sellers/{seller.organization_id}/hold", a, {"note": bad}, ("note",)),
    ]
    for url, headers, body, path in cases:
        field_named(envelope(post_json(client, url, body, headers), 422), *path)
    response = post_json(
        client, "/api/v1/billing/payout-details", {"bank_details": bad}, s, method="PUT"
    )
    field_named(envelope(response, 422), "bank_details")


def test_nul_in_a_multipart_upload_is_422_naming_the_field(client, seller, auth):
    # A form cannot carry a lone surrogate (bytes are decoded with replacement), only NUL.
    bad = "\x00"
    headers = auth(seller)
    content = csv_bytes([good_row(1)])
    base = {"vertical": "solar", "price_cents": "1500"}
    for form, filename, field in (
        (base | {"name": f"x{bad}"}, "leads.csv", "name"),
        (base | {"vertical": bad}, "leads.csv", "vertical"),
        (base, f"le{bad}ads.csv", "file"),
    ):
        data = form | {"file": (io.BytesIO(content), filename)}
        response = client.post(
            "/api/v1/batches", headers=headers, data=data, content_type="multipart/form-data"
        )
        field_named(envelope(response, 422), field)


def test_nul_in_a_web_form_is_422_not_a_database_error(client):
    form = {
        "csrf_token": csrf_token(client, "/signup"),
        "email": "web@example.com",
        "password": "correct horse battery staple",
        "confirm": "correct horse battery staple",
        "kind": "buyer",
    }
    assert client.post("/signup", data=form | {"organization_name": "Acme\x00"}).status_code == 422
    assert client.post("/signup", data=form | {"organization_name": "Acme"}).status_code == 302


def test_nul_in_a_query_parameter_is_422_naming_it(client, admin, auth):
    response = client.get(
        "/api/v1/spot-checks", query_string={"status": "\x00"}, headers=auth(admin)
    )
    field_named(envelope(response, 422), "status")


def test_text_without_bad_characters_is_untouched(client):
    body = {
        "email": "emoji@example.com",
        "password": "correct horse battery staple \U0001f600 \\u0000",
        "organization_name": "Zoë \U0001f600 Ltd",
        "kind": "buyer",
    }
    response = post_json(client, "/api/v1/signup", body)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["organization"]["name"] == "Zoë \U0001f600 Ltd"


# --- a body of the wrong JSON type -------------------------------------------------------------


def body_operations(app):
    spec = app.test_client().get("/api/v1/openapi.json").get_json()
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method != "parameters" and "requestBody" in operation:
                yield method.upper(), path.replace("{", "").replace("}", "")


def path_with_ids(path: str) -> str:
    return "/".join(
        "1" if part.endswith("_id") or part == "slug" else part for part in path.split("/")
    )


@pytest.mark.parametrize("body", ["[]", "[1, 2]", '"text"', "12", "null", "true"])
def test_a_body_that_is_not_an_object_is_a_4xx_envelope_on_every_operation(
    app, client, seller, buyer, admin, auth, body
):
    operations = list(body_operations(app))
    assert len(operations) >= 10
    for method, path in operations:
        for headers in ({}, auth(seller), auth(buyer), auth(admin)):
            headers = {**headers, "Idempotency-Key": f"wrong-type-{method}-{path}-{body}"}
            response = client.open(
                path_with_ids(path),
                method=method,
                data=body,
                content_type="application/json",
                headers=headers,
            )
            assert response.status_code in (400, 401, 403, 404, 422), (method, path)
            envelope(response, response.status_code)


def test_a_list_body_for_an_object_is_rejected_for_the_right_role(client, seller, buyer, auth):
    for url, headers in (
        ("/api/v1/signup", {}),
        ("/api/v1/auth/tokens", {}),
        ("/api/v1/batches", auth(seller)),
        ("/api/v1/billing/top-ups", {**auth(buyer), "Idempotency-Key": "list-body"}),
    ):
        response = client.post(url, data="[]", content_type="application/json", headers=headers)
        assert response.status_code in (400, 422), url
        envelope(response, response.status_code)


def test_the_int_converter_is_bounded_to_postgresql_integer(app):
    from app.http import DbIdConverter

    assert DbIdConverter(app.url_map).max == PAST_INTEGER - 1
    assert current_app.url_map.converters["int"] is DbIdConverter


def test_a_form_part_without_a_name_is_a_422_not_a_500(client, seller, auth):
    body = (
        b"--B\r\nContent-Disposition: form-data\r\n\r\nno name\r\n"
        b'--B\r\nContent-Disposition: form-data; filename="x.csv"\r\n\r\nno name\r\n'
        b'--B\r\nContent-Disposition: form-data; name="extra"\r\n\r\nx\r\n'
        b'--B\r\nContent-Disposition: form-data; name="vertical"\r\n\r\nsolar\r\n'
        b'--B\r\nContent-Disposition: form-data; name="price_cents"\r\n\r\n1500\r\n'
        b'--B\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n\r\n'
        + csv_bytes([good_row(1)])
        + b"\r\n--B--\r\n"
    )
    response = client.post(
        "/api/v1/batches",
        data=body,
        content_type="multipart/form-data; boundary=B",
        headers=auth(seller),
    )
    assert {"null", "extra"} <= set(envelope(response, 422, "validation_error")["details"])
