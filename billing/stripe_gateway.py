"""The one module that talks to Stripe: plain dicts and our own exceptions out, never SDK types.

Configuration is read from the app at call time (``STRIPE_API_KEY``, ``STRIPE_API_BASE``,
``STRIPE_TIMEOUT``), so a test can point the app at another server between two calls. Network
retries are off: the local Stripe server ignores ``Idempotency-Key`` and answers some bad input
with a 500, so an SDK retry could charge twice; our own keys and state make retries safe.

Failures come out as four exceptions:

- ``CardDeclined``: the card's answer (402 with its message);
- ``ProviderUnreachable``: the connection was never made, so Stripe certainly did nothing;
- ``ProviderTimeout``: the request may have reached Stripe and the outcome is unknown;
- ``ProviderRejected``: Stripe answered with another error (bad request, missing object...).

Stripe's objects become ours in billing/stripe_objects.py, strictly (``MalformedObject``).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import requests  # the SDK's own HTTP client; the local-server helper below calls it bare
import stripe
from flask import current_app

from billing.stripe_objects import (
    PaymentIntentResult,
    card_from_dict,
    payment_intent_from_dict,
    refund_from_dict,
)

logger = logging.getLogger(__name__)
# The SDK logs every request at INFO; our own log lines say what matters.
logging.getLogger("stripe").setLevel(logging.WARNING)

DEFAULT_TIMEOUT = (5.0, 30.0)  # seconds to connect, seconds to wait for the answer
# Names in an exception chain that mean the TCP connection was never made.
_NOT_SENT = {
    "ConnectionRefusedError",
    "NewConnectionError",
    "ConnectTimeoutError",
    "ConnectTimeout",
    "NameResolutionError",
    "gaierror",
}


class GatewayError(Exception):
    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        status: int | None = None,
        charge_id: str | None = None,
        payment_intent_id: str | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status
        self.charge_id = charge_id
        self.payment_intent_id = payment_intent_id


class CardDeclined(GatewayError):
    pass


class ProviderUnreachable(GatewayError):
    pass


class ProviderTimeout(GatewayError):
    pass


class ProviderRejected(GatewayError):
    pass


class SignatureNotVerified(Exception):
    """A webhook body whose ``Stripe-Signature`` does not verify with our secret."""


def _timeout() -> tuple[float, float]:
    """``STRIPE_TIMEOUT`` from the app config ("5,30": seconds to connect, to get the answer)."""
    value = current_app.config.get("STRIPE_TIMEOUT")
    if not value:
        return DEFAULT_TIMEOUT
    if isinstance(value, str):
        parts = [float(p) for p in value.split(",")]
        return (parts[0], parts[-1])
    return tuple(value)


def _client() -> stripe.StripeClient:
    config = current_app.config
    timeout = _timeout()
    base = config.get("STRIPE_API_BASE")
    return stripe.StripeClient(
        config.get("STRIPE_API_KEY") or "",
        base_addresses={"api": base} if base else None,
        max_network_retries=0,
        http_client=stripe.RequestsClient(timeout=timeout),
    )


def _exception_names(exc: BaseException) -> set[str]:
    names, stack, seen = set(), [exc], set()
    while stack:
        item = stack.pop()
        if item is None or id(item) in seen:
            continue
        seen.add(id(item))
        names.add(type(item).__name__)
        stack.extend([item.__cause__, item.__context__, getattr(item, "reason", None)])
        stack.extend(a for a in getattr(item, "args", ()) if isinstance(a, BaseException))
    return names


def _translate(exc: stripe.StripeError) -> GatewayError:
    if isinstance(exc, stripe.CardError):
        body = exc.json_body if isinstance(exc.json_body, dict) else {}
        error = body.get("error") or {}
        intent = error.get("payment_intent")
        return CardDeclined(
            exc.user_message or error.get("message") or "The card was declined.",
            code=exc.code or "card_declined",
            status=exc.http_status,
            charge_id=error.get("charge"),
            payment_intent_id=intent.get("id") if isinstance(intent, dict) else intent,
        )
    if isinstance(exc, stripe.APIConnectionError):
        if _exception_names(exc) & _NOT_SENT:
            return ProviderUnreachable("The payment provider could not be reached.")
        return ProviderTimeout("The payment provider did not answer in time.")
    return ProviderRejected(
        getattr(exc, "user_message", None) or str(exc) or "The payment provider refused.",
        code=getattr(exc, "code", None),
        status=getattr(exc, "http_status", None),
    )


def _call(fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except stripe.StripeError as exc:
        error = _translate(exc)
        logger.info("stripe call failed: %s (%s)", type(error).__name__, error.message)
        raise error from exc


def _options(idempotency_key: str | None) -> dict:
    return {"idempotency_key": idempotency_key} if idempotency_key else {}


# --- customers and cards -------------------------------------------------------------------


def create_customer(*, organization_id: int, name: str) -> str:
    customer = _call(
        _client().v1.customers.create,
        params={"name": name, "metadata": {"leadex_organization_id": str(organization_id)}},
        options=_options(f"leadex-customer-{organization_id}"),
    )
    return customer.id


def attach_payment_method(*, payment_method: str, customer: str) -> dict:
    pm = _call(_client().v1.payment_methods.attach, payment_method, params={"customer": customer})
    return card_from_dict(pm.to_dict())


def set_default_payment_method(*, customer: str, payment_method: str) -> None:
    _call(
        _client().v1.customers.update,
        customer,
        params={"invoice_settings": {"default_payment_method": payment_method}},
    )


def detach_payment_method(payment_method: str) -> None:
    _call(_client().v1.payment_methods.detach, payment_method)


def create_setup_intent(*, customer: str) -> dict:
    intent = _call(
        _client().v1.setup_intents.create,
        params={"customer": customer, "payment_method_types": ["card"]},
    )
    return {"id": intent.id, "client_secret": intent.client_secret}


# --- payments and refunds ------------------------------------------------------------------


def create_payment_intent(
    *,
    amount_cents: int,
    currency: str,
    customer: str,
    payment_method: str,
    off_session: bool,
    metadata: dict,
    idempotency_key: str,
) -> PaymentIntentResult:
    """Create and confirm a PaymentIntent on the server (only the fields both servers accept)."""
    params = {
        "amount": amount_cents,
        "currency": currency,
        "customer": customer,
        "payment_method": payment_method,
        "payment_method_types": ["card"],
        "confirm": True,
        "metadata": {k: str(v) for k, v in metadata.items()},
    }
    if off_session:
        params["off_session"] = True
    try:
        pi = _client().v1.payment_intents.create(params=params, options=_options(idempotency_key))
    except stripe.CardError as exc:
        error = _translate(exc)
        if error.charge_id and not error.payment_intent_id:
            error.payment_intent_id = _payment_intent_of_charge(error.charge_id)
        raise error from exc
    except stripe.StripeError as exc:
        raise _translate(exc) from exc
    return payment_intent_from_dict(pi.to_dict())


def _payment_intent_of_charge(charge_id: str) -> str | None:
    try:
        charge = _client().v1.charges.retrieve(charge_id)
    except stripe.StripeError:
        return None
    pi = charge.to_dict().get("payment_intent")
    return pi if isinstance(pi, str) else (pi or {}).get("id")


def retrieve_payment_intent(payment_intent_id: str) -> PaymentIntentResult:
    return payment_intent_from_dict(
        _call(_client().v1.payment_intents.retrieve, payment_intent_id).to_dict()
    )


def list_payment_intents() -> Iterator[PaymentIntentResult]:
    page = _call(_client().v1.payment_intents.list, params={"limit": 100})
    for pi in _pages(page):
        yield payment_intent_from_dict(pi)


def create_refund(
    *, payment_intent: str, amount_cents: int, metadata: dict, idempotency_key: str
) -> dict:
    """Refund part of a PaymentIntent. The amount is always sent: without it the local server
    refunds the whole original amount again."""
    refund = _call(
        _client().v1.refunds.create,
        params={
            "payment_intent": payment_intent,
            "amount": amount_cents,
            "metadata": {k: str(v) for k, v in metadata.items()},
        },
        options=_options(idempotency_key),
    )
    return refund_from_dict(refund.to_dict())


def list_refunds() -> Iterator[dict]:
    page = _call(_client().v1.refunds.list, params={"limit": 100})
    for refund in _pages(page):
        yield refund_from_dict(refund)


def retrieve_charge_payment_intent(charge_id: str) -> str | None:
    return _payment_intent_of_charge(charge_id)


def _pages(page) -> Iterator[dict]:
    try:
        for item in page.auto_paging_iter():
            yield item.to_dict()
    except stripe.StripeError as exc:
        raise _translate(exc) from exc


def is_reachable() -> bool:
    try:
        _client().v1.balance.retrieve()
    except stripe.APIConnectionError:
        return False
    except stripe.StripeError:
        return True
    return True


# --- webhooks ------------------------------------------------------------------------------


def parse_event(payload: bytes, signature: str | None) -> dict:
    """Verify the ``Stripe-Signature`` header with the configured secret; the event as a dict."""
    secret = current_app.config.get("STRIPE_WEBHOOK_SECRET") or ""
    if not secret or not signature:
        raise SignatureNotVerified("missing signature or secret")
    try:
        stripe.Webhook.construct_event(payload, signature, secret)
        event = json.loads(payload)
    except (stripe.SignatureVerificationError, ValueError) as exc:
        raise SignatureNotVerified(str(exc)) from exc
    if not isinstance(event, dict) or not isinstance(event.get("id"), str):
        raise SignatureNotVerified("not an event")
    return event


def register_local_webhook(*, url: str, name: str = "leadex") -> str:
    """Point the local Stripe server's webhook ``name`` at ``url``, signed with our secret.

    Only the local server (localstripe) has this route; on real Stripe the endpoint is set up
    in the dashboard. Returns the server it registered with.
    """
    base = current_app.config.get("STRIPE_API_BASE")
    secret = current_app.config.get("STRIPE_WEBHOOK_SECRET")
    if not base:
        raise ProviderRejected("STRIPE_API_BASE is not set: register the endpoint with Stripe.")
    if not secret:
        raise ProviderRejected("STRIPE_WEBHOOK_SECRET is not set.")
    try:
        answer = requests.post(
            f"{base.rstrip('/')}/_config/webhooks/{name}",
            data={"url": url, "secret": secret},
            timeout=10,
        )
    except requests.RequestException as exc:
        raise ProviderUnreachable(f"The local Stripe server at {base} is not reachable.") from exc
    if answer.status_code != 200:
        raise ProviderRejected(
            f"The local Stripe server answered {answer.status_code}.", status=answer.status_code
        )
    return base
