"""The API keeps its own OpenAPI document: a property-based run (schemathesis) over every
operation, as each role: anonymous, seller, buyer and admin.

Every answer must be documented (status, content type, headers, body against the schema), and
no answer may be a 5xx but a documented 502/503 of the payment provider. Payment operations talk
to the local Stripe server of ``tests/plugins/stripe.py``. Rate limits are off for the run, so
they cannot hide what is behind them. Each operation gets positive and negative data; half the
generated ids are swapped for small ones, which name the objects ``population`` makes.

``CONTRACT_MAX_EXAMPLES`` raises the examples per operation for a longer local run.
"""

from __future__ import annotations

import os
import traceback

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from app.auth import services
from app.extensions import limiter
from tests.helpers import make_user
from tests.verification.flow import upload

MAX_EXAMPLES = int(os.environ.get("CONTRACT_MAX_EXAMPLES", "20"))
EXAMPLES = {
    GenerationMode.POSITIVE: MAX_EXAMPLES,
    GenerationMode.NEGATIVE: max(5, MAX_EXAMPLES // 2),
}
# Without a token every operation but sign-up and log-in answers 401 at once.
ANONYMOUS_EXAMPLES = max(5, MAX_EXAMPLES // 4)
PUBLIC = {"POST /api/v1/signup", "POST /api/v1/auth/tokens"}
# Stripe signs its events with the webhook secret; generated bodies cannot carry a valid
# signature, so each would be the same 400. tests/billing/test_webhooks.py covers the webhook.
EXCLUDED = {"POST /api/v1/billing/stripe/webhook"}
PROVIDER_ERRORS = {502: "payment_provider_error", 503: "payment_provider_unavailable"}
CHECKS = [
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@pytest.fixture
def api_schema(app, stripe_server):
    """The served document, tested against the app in-process (WSGI), rate limits off."""
    was_enabled = limiter.enabled
    limiter.enabled = False
    yield schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    limiter.enabled = was_enabled


@pytest.fixture
def population():
    """One user of each role, and two batches of the seller's with leads, rejections and a
    spot-check sample, so that small ids name real objects."""
    users = {role: make_user(role) for role in ("seller", "buyer", "admin")}
    upload(users["seller"], 6, email="not an email")
    upload(users["seller"], 4)
    return users


@pytest.fixture(params=["anonymous", "seller", "buyer", "admin"])
def caller(request, population):
    """(role, headers()): a fresh token each time, since a generated DELETE may revoke one."""
    if request.param == "anonymous":
        return request.param, dict
    user = population[request.param]

    def headers() -> dict:
        _, token = services.create_token(user=user)
        return {"Authorization": f"Bearer {token}"}

    return request.param, headers


def assert_not_a_server_error(case, response) -> None:
    status = response.status_code
    if status < 500:
        return
    documented = str(status) in case.operation.definition.raw.get("responses", {})
    code = response.json().get("error", {}).get("code") if documented else None
    assert status in PROVIDER_ERRORS and code == PROVIDER_ERRORS[status], (
        f"{status}: {response.text[:300]}"
    )


def check_operation(operation, headers, mode, max_examples: int) -> None:
    """Generated cases of one operation; raises the first failure, shrunk by Hypothesis."""

    @settings(
        max_examples=max_examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode), data=st.data())
    def run(case, data):
        for name, value in (case.path_parameters or {}).items():
            if type(value) is int and data.draw(st.booleans(), label=f"small {name}"):
                case.path_parameters[name] = data.draw(st.integers(1, 4), label=name)
        response = case.call(headers=headers())
        assert_not_a_server_error(case, response)
        case.validate_response(response, checks=CHECKS)

    run()


def test_every_operation_answers_as_documented(api_schema, caller):
    """Every operation with positive and negative data; all failures reported together."""
    role, headers = caller
    failures, checked = [], 0
    for result in api_schema.get_all_operations():
        operation = result.ok()
        if operation.label in EXCLUDED:
            continue
        for mode, max_examples in EXAMPLES.items():
            if role == "anonymous" and operation.label not in PUBLIC:
                max_examples = ANONYMOUS_EXAMPLES
            try:
                check_operation(operation, headers, mode, max_examples)
            except (Exception, BaseExceptionGroup) as exc:  # collected, reported below
                detail = (
                    exc
                    if isinstance(exc, AssertionError | BaseExceptionGroup)
                    else "".join(traceback.format_exception(exc))
                )
                failures.append(f"--- {operation.label} ({mode.value})\n{detail}")
            checked += 1
    assert checked >= 80
    assert not failures, "\n".join(failures)
