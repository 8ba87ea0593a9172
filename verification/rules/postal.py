"""Postal code formats per country, for the intake check of a lead's `postal_code`."""

import re

# Patterns match the normalised form (upper case, single spaces). Where people commonly write a
# code both with and without its separator (UK, Canada, Netherlands, Japan...), both are accepted:
# rejecting a lead over a missing space would punish a formatting habit, not bad data.
_PATTERNS: dict[str, str] = {
    "US": r"\d{5}(?:-\d{4})?",
    "CA": r"[ABCEGHJ-NPRSTVXY]\d[ABCEGHJ-NPRSTV-Z] ?\d[ABCEGHJ-NPRSTV-Z]\d",
    # Full UK postcode (outward code: area, district, optional sub-district letter; inward code:
    # sector digit and unit letters, which never use C, I, K, M, O or V), plus Girobank's GIR 0AA.
    "GB": (
        r"(?:GIR ?0AA|(?:[A-PR-UWYZ]\d{1,2}|[A-PR-UWYZ][A-HK-Y]\d{1,2}|[A-PR-UWYZ]\d[A-HJKPSTUW]"
        r"|[A-PR-UWYZ][A-HK-Y]\d[ABEHMNPRV-Y]) ?\d[ABD-HJLNP-UW-Z]{2})"
    ),
    "DE": r"\d{5}",
    "FR": r"\d{5}",
    # Spanish codes start with the province number, 01-52.
    "ES": r"(?:0[1-9]|[1-4]\d|5[0-2])\d{3}",
    "IT": r"\d{5}",
    "NL": r"[1-9]\d{3} ?[A-Z]{2}",
    "BE": r"[1-9]\d{3}",
    "AT": r"[1-9]\d{3}",
    "CH": r"[1-9]\d{3}",
    "AU": r"\d{4}",
    # Indian PIN codes are six digits, often written 3+3 with a space.
    "IN": r"[1-9]\d{2} ?\d{3}",
    "BR": r"\d{5}-?\d{3}",
    "TR": r"\d{5}",
    "SA": r"\d{5}(?:-\d{4})?",
    "IR": r"\d{10}|\d{5}-\d{5}",
    "JP": r"\d{3}-?\d{4}",
    "SE": r"[1-9]\d{2} ?\d{2}",
    "PL": r"\d{2}-?\d{3}",
    # Eircode: a routing key (letter and two digits, or D6W) and a four-character identifier
    # drawn from an alphabet without easily confused letters.
    "IE": r"(?:[AC-FHKNPRTV-Y]\d{2}|D6W) ?[0-9AC-FHKNPRTV-Y]{4}",
    "MX": r"\d{5}",
    "ZA": r"\d{4}",
    "PT": r"[1-9]\d{3}-?\d{3}",
    "DK": r"[1-9]\d{3}",
    "NO": r"\d{4}",
    "FI": r"\d{5}",
    "CZ": r"[1-7]\d{2} ?\d{2}",
    "GR": r"[1-8]\d{2} ?\d{2}",
    "RU": r"[1-9]\d{5}",
    "CN": r"\d{6}",
    "KR": r"\d{5}",
    "NZ": r"\d{4}",
    "SG": r"\d{6}",
}

POSTAL_CODE_PATTERNS: dict[str, re.Pattern[str]] = {
    country: re.compile(pattern) for country, pattern in _PATTERNS.items()
}

_WHITESPACE = re.compile(r"\s+")


def normalize_postal_code(value: str) -> str:
    """Upper-case the code and collapse runs of whitespace to one space."""
    return _WHITESPACE.sub(" ", value.strip()).upper()


def is_valid_postal_code(country: str, code: str) -> bool | None:
    """Whether a normalised code fits the country's format; None when the format is not known."""
    pattern = POSTAL_CODE_PATTERNS.get(country)
    if pattern is None:
        return None
    return pattern.fullmatch(code) is not None


def postal_prefix(code: str | None) -> str | None:
    """The first three characters of the code without spaces, the area buyers filter on."""
    if not code:
        return None
    return code.replace(" ", "").upper()[:3] or None
