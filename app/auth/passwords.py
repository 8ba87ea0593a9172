"""Password rules: long enough, not common, not guessable from the account's own details."""

from zxcvbn import zxcvbn

MIN_LENGTH = 12
MAX_LENGTH = 256
# zxcvbn's scale: 3 is "safely unguessable: moderate protection from offline slow-hash attacks".
MIN_STRENGTH = 3


def password_problems(password: str, *, user_inputs: tuple[str, ...] = ()) -> list[str]:
    """Every reason the password is refused, as sentences; empty when it is fine."""
    if len(password) < MIN_LENGTH:
        return [f"Use at least {MIN_LENGTH} characters."]
    if len(password) > MAX_LENGTH:
        return [f"Use at most {MAX_LENGTH} characters."]
    inputs = [part for value in user_inputs for part in value.lower().replace("@", " ").split()]
    result = zxcvbn(password[:100], user_inputs=inputs)
    if result["score"] < MIN_STRENGTH:
        hint = result["feedback"].get("warning") or "It is too easy to guess."
        return [f"Choose a less common password: {hint}".rstrip(".") + "."]
    return []
