"""Fixtures of the stream tests."""

import pytest

from app.settings import update_settings
from verification.rules import csp


@pytest.fixture
def small_plan(admin):
    """f = 0.5 and an AOQL of 10%: a clearance number of 3, so tests run a whole cycle."""
    update_settings(
        actor=admin, changes={"stream_sampling_fraction": 0.5, "stream_aoql_pct": 10.0}
    )
    assert csp.clearance_number(f=0.5, aoql_pct=10.0) == 3
    return {"f": 0.5, "i": 3}
