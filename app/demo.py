"""`flask demo` steps: the foundation makes accounts, domain packages add their own steps."""

from __future__ import annotations

from collections.abc import Callable

DEMO_PASSWORD = "demo-leadex-password"
DEMO_ACCOUNTS = (
    ("admin", "admin@demo.example.com", "Leadex staff"),
    ("seller", "seller@demo.example.com", "Sunrise Solar Leads"),
    ("buyer", "buyer@demo.example.com", "Brightside Installers"),
)

# Each step gets the demo users by role and returns lines to print.
DEMO_STEPS: list[Callable[[dict], list[str]]] = []


def register_demo_step(step: Callable[[dict], list[str]]) -> None:
    if step not in DEMO_STEPS:
        DEMO_STEPS.append(step)
