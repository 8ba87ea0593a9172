"""Verification: automatic checks, scoring, sampling, spot-checks and quality figures."""
