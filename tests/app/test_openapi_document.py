"""/api/v1/openapi.json describes the errors the API really sends, operation by operation."""

from __future__ import annotations

import pytest

ERROR_REF = "#/components/schemas/Error"
HTTP_METHODS = {"get", "put", "post", "patch", "delete"}


@pytest.fixture
def spec(client):
    return client.get("/api/v1/openapi.json").get_json()


def operations(spec):
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method in HTTP_METHODS:
                parameters = [*item.get("parameters", []), *operation.get("parameters", [])]
                yield f"{method.upper()} {path}", operation, parameters


def resolve(spec, response: dict) -> dict:
    if "$ref" in response:
        return spec["components"]["responses"][response["$ref"].rsplit("/", 1)[1]]
    return response


def test_the_error_component_is_the_envelope_the_api_sends(spec):
    error = spec["components"]["schemas"]["Error"]
    assert error["required"] == ["error"] and error["additionalProperties"] is False
    inner = error["properties"]["error"]
    assert inner["type"] == "object"
    assert sorted(inner["required"]) == ["code", "details", "message"]
    assert inner["properties"]["code"]["type"] == "string"
    assert inner["properties"]["message"]["type"] == "string"
    assert inner["properties"]["details"]["type"] == "object"


def test_every_error_response_of_every_operation_is_the_envelope(spec):
    seen = set()
    for label, operation, _ in operations(spec):
        responses = operation["responses"]
        assert "default" not in responses, label
        for status, response in responses.items():
            if int(status) < 400:
                continue
            seen.add(int(status))
            content = resolve(spec, response)["content"]
            assert list(content) == ["application/json"], (label, status)
            assert content["application/json"]["schema"] == {"$ref": ERROR_REF}, (label, status)
    assert seen == {400, 401, 402, 403, 404, 409, 413, 422, 429, 502, 503}


def test_error_statuses_follow_from_what_an_operation_is(spec):
    for label, operation, parameters in operations(spec):
        statuses = {int(s) for s in operation["responses"]}
        if operation.get("security"):
            assert 401 in statuses, label
        if any(p["in"] == "path" for p in parameters):
            assert 404 in statuses, label
        if "requestBody" in operation:
            assert {400, 413, 422} <= statuses, label
        if any(p["in"] == "query" for p in parameters):
            assert 422 in statuses, label
        key = [p for p in parameters if p["in"] == "header" and p["name"] == "Idempotency-Key"]
        if key:
            assert {409, 422} <= statuses, label
            if key[0]["required"]:
                assert 400 in statuses, label
        assert not statuses & {500, 501, 504}, label


def status_map(spec) -> dict[str, set[int]]:
    return {label: {int(s) for s in op["responses"]} for label, op, _ in operations(spec)}


@pytest.mark.parametrize(
    "label, expected, absent",
    [
        ("GET /api/v1/me", {200, 401}, {403, 404, 422}),
        ("GET /api/v1/billing/ledger", {401, 404, 422}, {403}),  # every role may list
        ("GET /api/v1/batches", {401, 403, 422}, {404}),
        ("DELETE /api/v1/auth/tokens/{token_id}", {204, 401, 404}, {403}),
        ("POST /api/v1/signup", {201, 400, 409, 413, 422, 429}, {401, 403}),
        ("POST /api/v1/auth/tokens", {201, 400, 401, 422, 429}, {403}),
        ("POST /api/v1/billing/top-ups", {201, 400, 401, 402, 403, 409, 422, 502, 503}, set()),
        ("POST /api/v1/billing/refunds", {402, 409, 503}, set()),
        ("POST /api/v1/billing/payment-methods", {402, 409, 502, 503}, set()),
        ("POST /api/v1/billing/setup-intents", {201, 401, 403, 502, 503}, {400, 422}),
        ("POST /api/v1/billing/payouts", {409, 422}, {402, 502, 503}),
        ("POST /api/v1/billing/stripe/webhook", {200, 400}, {401, 403}),
        ("POST /api/v1/spot-checks/{item_id}", {404, 409, 422}, set()),
        ("GET /api/v1/sellers/{seller_id}/quality", {200, 401, 404}, {403, 422}),
    ],
)
def test_statuses_of_single_operations(spec, label, expected, absent):
    statuses = status_map(spec)[label]
    assert expected <= statuses
    assert not absent & statuses


def test_rate_limited_operations_document_429_and_no_others_do(spec):
    limited = {label for label, statuses in status_map(spec).items() if 429 in statuses}
    assert limited == {"POST /api/v1/signup", "POST /api/v1/auth/tokens"}


def test_integer_path_ids_are_bounded_like_the_database(spec):
    for label, _, parameters in operations(spec):
        for p in parameters:
            if p["in"] == "path" and p["schema"]["type"] == "integer":
                assert p["schema"]["maximum"] == 2**31 - 1, label


def test_tags_have_one_style_and_every_operation_one_listed_tag(spec):
    names = [tag["name"] for tag in spec["tags"]]
    assert names == ["Accounts", "Marketplace", "Verification", "Disputes", "Billing"]
    for label, operation, _ in operations(spec):
        assert len(operation["tags"]) == 1 and operation["tags"][0] in names, label


def test_a_real_error_body_has_the_documented_shape(client):
    body = client.get("/api/v1/me").get_json()
    assert list(body) == ["error"]
    assert sorted(body["error"]) == ["code", "details", "message"]
