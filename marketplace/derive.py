"""What the platform derives from a lead's values: qualification, score and the search keys
(postal code, region, city) as Lead columns.

One mapping for intake (a new lead) and for a re-score (a person's BANT replacing the seller's),
so a new score column is added in one place. Pure: it runs in intake's worker processes.
"""

from __future__ import annotations

from verification.rules.qualification import qualify
from verification.rules.scoring import score_lead, temperature


def derive(values: dict, bant_override: dict | None = None) -> dict:
    """The derived Lead columns of ``values`` (``bant_override``: see ``qualify``)."""
    qualification = qualify(values, bant_override=bant_override)
    bant = qualification["bant"]
    score, breakdown = score_lead(values, bant)
    frameworks = qualification["frameworks"]
    return {
        "bant_budget": bant["budget"],
        "bant_authority": bant["authority"],
        "bant_need": bant["need"],
        "bant_timing": bant["timing"],
        "bant_met": bant["met"],
        "champ": frameworks["champ"],
        "anum": frameworks["anum"],
        "faint": frameworks["faint"],
        "gpct": frameworks["gpct"],
        "stage": qualification["stage"],
        "claimed_stage_unsupported": qualification["claimed_stage_unsupported"],
        "score": score,
        "score_breakdown": breakdown,
        "temperature": temperature(score),
        "postal_key": postal_key(values.get("postal_code")),
        "region_key": area_key(values.get("region")),
        "city_key": area_key(values.get("city")),
    }


def area_key(name: str | None) -> str | None:
    """A region or city lower-cased, runs of spaces made one: the market matches it exactly,
    so "oakland " finds "Oakland"."""
    if not name:
        return None
    return " ".join(str(name).split()).lower() or None


def postal_key(code: str | None) -> str | None:
    """The postal code upper-case without spaces: the market's postal_prefix filter matches it."""
    if not code:
        return None
    return "".join(str(code).split()).upper() or None
