"""Billing's settings come from the environment through app.config, never read at call time."""

import pytest

from app.config import from_env

pytestmark = pytest.mark.unit


def test_stripe_timeout_and_payout_provider_are_read_by_from_env(tmp_path):
    base = {"LEADEX_INSTANCE_DIR": str(tmp_path)}
    defaults = from_env(base)
    assert defaults["STRIPE_TIMEOUT"] is None  # the gateway's 5 s to connect, 30 s to answer
    assert defaults["BILLING_PAYOUT_PROVIDER"] == "manual"
    config = from_env(base | {"STRIPE_TIMEOUT": "2,10", "BILLING_PAYOUT_PROVIDER": "manual"})
    assert config["STRIPE_TIMEOUT"] == "2,10"
    assert config["BILLING_PAYOUT_PROVIDER"] == "manual"
