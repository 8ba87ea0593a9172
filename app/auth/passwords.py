"""Password rules: long enough, not common, not guessable from the account's own details."""

import re

from zxcvbn import zxcvbn

MIN_LENGTH = 12
MAX_LENGTH = 256
# zxcvbn's scale: 3 is "safely unguessable: moderate protection from offline slow-hash attacks".
MIN_STRENGTH = 3
# An organisation name shorter than this (folded) is not looked for inside passwords: "A" or
# "IBM" would refuse far too much. zxcvbn still weighs it as a user input.
MIN_NAME_TO_FIND = 4


def _fold(value: str) -> str:
    """Lower-case letters and digits only: "Contoso Leads" and "contoso-leads" are the same."""
    return re.sub(r"[\W_]", "", value.casefold())


def password_problems(password: str, *, email: str = "", organization_name: str = "") -> list[str]:
    """Every reason the password is refused, as sentences; empty when it is fine.

    ``email`` and ``organization_name`` are the account's own: the password may not be the
    email or contain the organisation's whole name, and zxcvbn judges it against both whole
    values as well as their words.
    """
    if len(password) < MIN_LENGTH:
        return [f"Use at least {MIN_LENGTH} characters."]
    if len(password) > MAX_LENGTH:
        return [f"Use at most {MAX_LENGTH} characters."]
    if email and password.strip().casefold() == email.strip().casefold():
        return ["Do not use your email address as the password."]
    name = _fold(organization_name)
    if len(name) >= MIN_NAME_TO_FIND and name in _fold(password):
        return ["Do not use your organisation's name in the password."]
    values = [v.strip().lower() for v in (email, organization_name) if v.strip()]
    parts = [part for value in values for part in value.replace("@", " ").split()]
    result = zxcvbn(password[:100], user_inputs=list(dict.fromkeys(values + parts)))
    if result["score"] < MIN_STRENGTH:
        hint = result["feedback"].get("warning") or "It is too easy to guess."
        return [f"Choose a less common password: {hint}".rstrip(".") + "."]
    return []
